"""The terminal environment in-process: a persistent shell, limits, output, confinement."""

from __future__ import annotations

import os

import pytest
from terminal_env import TerminalAction, TerminalObservation
from terminal_env.server.environment import PACKAGE_DIR, TIMEOUT_EXIT_CODE, TerminalEnvironment

from openenv.runtime import landlock

pytestmark = pytest.mark.skipif(
    landlock.abi_version() == 0, reason="the shell's confinement needs Landlock"
)


@pytest.fixture
def env():
    environment = TerminalEnvironment()
    environment.reset()
    yield environment
    environment.close()


def run(env: TerminalEnvironment, command: str, **kwargs) -> TerminalObservation:
    return env.step(TerminalAction(command=command, **kwargs))


def test_free_mode(env):
    first = env.reset()
    assert (first.task_id, first.prompt, first.reward) == (None, None, None)
    assert first.cwd == env.workspace.path
    obs = run(env, "echo hi; echo oops >&2; false")
    assert (obs.stdout, obs.stderr, obs.exit_code, obs.reward) == ("hi\n", "oops\n", 1, None)


def test_the_shell_persists_cwd_variables_and_functions(env):
    run(env, 'mkdir -p a/b && cd a/b && GREETING=hello && greet() { echo "$GREETING $1"; }')
    obs = run(env, "greet world; pwd")
    assert obs.stdout == f"hello world\n{env.workspace.path}/a/b\n"
    assert obs.cwd == f"{env.workspace.path}/a/b" == env.state.cwd


def test_files_persist_within_an_episode_and_not_across(env):
    run(env, "echo data > kept.txt")
    assert run(env, "cat kept.txt").stdout == "data\n"
    env.reset()
    assert run(env, "ls -A").stdout == ""


def test_git_and_coreutils_work(env):
    obs = run(
        env,
        "git init -q repo && cd repo && echo a > f && git add f && git commit -qm first "
        "&& git log --format=%s && sort -r <(printf 'a\\nb\\n') | head -1 && wc -c < f",
    )
    assert obs.exit_code == 0, obs.stderr
    assert obs.stdout == "first\nb\n2\n"


def test_commands_read_end_of_file(env):
    obs = run(env, 'cat; read line; echo "status $?"')
    assert obs.stdout == "status 1\n"


def test_syntax_errors_are_reported_and_the_shell_goes_on(env):
    obs = run(env, 'echo "unbalanced')
    assert obs.exit_code == 2 and "unexpected EOF" in obs.stderr
    assert run(env, "echo fine").stdout == "fine\n"


def test_a_command_cannot_end_its_here_document_early(env):
    obs = run(env, "cat <<'EOF'\n__OPENENV_END_0000\nEOF\necho after")
    assert obs.stdout == "__OPENENV_END_0000\nafter\n"


def test_timeout_restarts_the_shell_in_the_same_directory(env):
    run(env, "mkdir deep && cd deep && X=1")
    obs = run(env, "echo started; sleep 30", timeout_s=0.5)
    assert obs.timed_out and obs.exit_code == TIMEOUT_EXIT_CODE and obs.shell_restarted
    assert obs.stdout == "started\n" and "0.5 s wall-clock limit" in obs.stderr
    assert obs.cwd == f"{env.workspace.path}/deep"
    after = run(env, 'pwd; echo "[$X]"')
    assert after.stdout == f"{env.workspace.path}/deep\n[]\n"
    assert env.state.shell_restarts == 1


def test_exit_restarts_the_shell_with_its_status(env):
    obs = run(env, "exit 3")
    assert (obs.exit_code, obs.shell_restarted) == (3, True)
    assert "exit status 3" in obs.stderr
    assert run(env, "echo back").stdout == "back\n"


def test_background_jobs_are_killed_with_a_timed_out_shell(env):
    obs = run(env, "sleep 60 & echo $!; wait", timeout_s=0.5)
    pid = int(obs.stdout)
    assert obs.timed_out
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] in "ZX"


def test_output_is_capped_with_a_marker(env):
    env.reset(output_limit_bytes=1000)
    obs = run(env, "yes | head -c 100000; echo END")
    assert obs.stdout_truncated and obs.stdout.endswith("END\n")
    assert "bytes of output dropped (limit 1000 bytes)" in obs.stdout


def test_binary_output(env):
    obs = run(env, "head -c 256 /dev/urandom")
    assert obs.exit_code == 0 and obs.stdout


def test_the_shell_cannot_read_the_package_or_the_host(env):
    tasks = f"{PACKAGE_DIR}/server/tasks/__init__.py"
    obs = run(env, f"cat {tasks} | head -1; ls {os.path.expanduser('~')}")
    assert "Permission denied" in obs.stderr and "task set" not in obs.stdout
    assert "Permission denied" in run(env, "cat /etc/shadow").stderr


def test_no_tcp(env):
    code = "import socket; socket.create_connection(('127.0.0.1', 9), timeout=2)"
    obs = run(env, f'python3 -c "{code}"')
    assert obs.exit_code == 1 and "PermissionError" in obs.stderr


def test_evaluate_needs_a_task(env):
    with pytest.raises(ValueError, match="evaluate needs a task"):
        env.step(TerminalAction(evaluate=True))


def test_reset_options_are_validated():
    from pydantic import ValidationError

    model = TerminalEnvironment.reset_options_model()
    for bad in ({"step_timeout_s": 0}, {"output_limit_bytes": 1}, {"max_steps": 0}, {"x": 1}):
        with pytest.raises(ValidationError):
            model(**bad)


def test_close_removes_the_workspace():
    environment = TerminalEnvironment()
    environment.reset()
    path = environment.workspace.path
    environment.close()
    assert not os.path.exists(path)
