"""The coding environment in-process: REPL semantics, limits, output, confinement."""

from __future__ import annotations

import os
import random
import sys

import pytest
from coding_env import CodeAction, CodeObservation
from coding_env.server.environment import PACKAGE_DIR, TIMEOUT_EXIT_CODE, CodingEnvironment
from pydantic import ValidationError

from openenv import derive_seed
from openenv.runtime import landlock

pytestmark = pytest.mark.skipif(
    landlock.abi_version() == 0, reason="the kernel's confinement needs Landlock"
)


@pytest.fixture
def env():
    environment = CodingEnvironment()
    environment.reset()
    yield environment
    environment.close()


def run(env: CodingEnvironment, code: str, **kwargs) -> CodeObservation:
    return env.step(CodeAction(code=code, **kwargs))


def test_free_mode_has_no_reward_and_no_task(env):
    first = env.reset()
    assert (first.task_id, first.prompt, first.reward, first.done) == (None, None, None, False)
    obs = run(env, "print('hi')")
    assert (obs.stdout, obs.stderr, obs.exit_code, obs.reward) == ("hi\n", "", 0, None)


def test_namespace_persists_across_steps(env):
    assert run(env, "x = 20").stdout == ""
    assert run(env, "x += 22").exit_code == 0
    assert run(env, "print(x)").stdout == "42\n"
    assert run(env, "def double(v):\n    return 2 * v").exit_code == 0
    assert run(env, "double(x)").stdout == "84\n"  # a last expression prints its repr


def test_last_expression_is_printed_like_the_interactive_interpreter(env):
    assert run(env, "'a' + 'b'").stdout == "'ab'\n"
    assert run(env, "None").stdout == ""
    assert run(env, "y = 1\ny + 1").stdout == "2\n"
    assert run(env, "_").stdout == "2\n"


def test_reset_starts_a_fresh_namespace(env):
    run(env, "secret = 1")
    env.reset()
    obs = run(env, "secret")
    assert obs.exit_code == 1 and "NameError" in obs.stderr


@pytest.mark.parametrize(
    "module",
    [
        "json",
        "sqlite3",
        "asyncio",
        "decimal",
        "fractions",
        "multiprocessing",
        "subprocess",
        "ctypes",
        "threading",
        "tempfile",
        "zipfile",
        "csv",
        "re",
        "itertools",
        "unittest",
        "hashlib",
        "ssl",
        "xml.etree.ElementTree",
        "statistics",
        "dataclasses",
    ],
)
def test_the_standard_library_imports(env, module):
    obs = run(env, f"import {module}")
    assert (obs.exit_code, obs.stderr) == (0, "")


def test_subprocesses_and_files_work_in_the_workspace(env):
    obs = run(
        env,
        "open('data.txt', 'w').write('hello')\nimport subprocess\n"
        "print(subprocess.run(['cat', 'data.txt'], capture_output=True, text=True).stdout)",
    )
    assert obs.stdout == "hello\n", obs.stderr
    assert run(env, "import os; os.path.exists('data.txt')").stdout == "True\n"


def test_an_exception_gives_a_traceback_of_the_agents_code_only(env):
    obs = run(env, "def f():\n    return 1 / 0\nf()")
    assert obs.exit_code == 1
    assert obs.stderr.startswith("Traceback (most recent call last):")
    assert "ZeroDivisionError: division by zero" in obs.stderr
    assert "kernel" not in obs.stderr and "<cell" in obs.stderr
    assert "return 1 / 0" in obs.stderr  # the source line is shown


def test_source_lines_show_wherever_the_agent_looks_for_them(env):
    """The kernel imports linecache only when something needs it; the cells' sources are
    there all the same: in the agent's own traceback within the cell that first imported
    it, in warnings, and for inspect."""
    run(env, "def g():\n    return 'from an earlier cell'")
    own = run(
        env,
        "import traceback\ntry:\n    1 / 0\nexcept ZeroDivisionError:\n    traceback.print_exc()",
    )
    assert "    1 / 0" in own.stderr, own.stderr
    warned = run(env, "import warnings\nwarnings.warn('careful')")
    assert "UserWarning: careful" in warned.stderr and "warnings.warn('careful')" in warned.stderr
    assert (
        "return 'from an earlier cell'"
        in run(env, "import inspect\nprint(inspect.getsource(g))").stdout
    )


def test_the_kernel_starts_without_the_modules_it_avoids(env):
    """json (re, enum), linecache (tokenize), random: most of a kernel's start-up, once."""
    obs = run(
        env,
        "import sys\n"
        "avoided = ('json', 're', 'linecache', 'tokenize', 'ast', 'random')\n"
        "sorted(m for m in avoided if m in sys.modules)",
    )
    assert obs.stdout == "[]\n"


def test_an_error_with_any_name_keeps_the_kernel(env):
    """The reply names the error type, which the agent chooses: it is encoded, whatever it is."""
    run(env, "kept = 1")
    for name in ('quote"d', "back\\slash", "new\nline", "\x00nul", "ünï"):
        obs = run(env, f"E = type({name!r}, (Exception,), {{}})\nraise E()")
        assert (obs.exit_code, obs.namespace_reset) == (1, False), (name, obs)
    assert run(env, "kept").stdout == "1\n"


def test_syntax_errors_are_reported(env):
    obs = run(env, "def f(:\n    pass")
    assert obs.exit_code == 1 and "SyntaxError" in obs.stderr and "Traceback" not in obs.stderr
    assert run(env, "print('still fine')").stdout == "still fine\n"


@pytest.mark.parametrize(
    ("code", "exit_code"),
    [("exit(3)", 3), ("import sys; sys.exit()", 0), ("raise SystemExit('bye')", 1), ("quit(0)", 0)],
)
def test_system_exit_sets_the_exit_code_and_keeps_the_namespace(env, code, exit_code):
    run(env, "kept = 7")
    obs = run(env, code)
    assert (obs.exit_code, obs.namespace_reset) == (exit_code, False)
    assert run(env, "kept").stdout == "7\n"


def test_timeout_kills_the_kernel_and_says_the_namespace_is_gone(env):
    run(env, "kept = 1")
    obs = run(
        env,
        "import time\nprint('started', flush=True)\nwhile True: time.sleep(0.01)",
        timeout_s=0.5,
    )
    assert obs.timed_out and obs.exit_code == TIMEOUT_EXIT_CODE and obs.namespace_reset
    assert obs.stdout == "started\n"  # what it printed before the limit is kept
    assert "0.5 s wall-clock limit" in obs.stderr and "variables are gone" in obs.stderr
    assert 0.5 <= obs.duration_s < 5
    after = run(env, "kept")
    assert after.exit_code == 1 and "NameError" in after.stderr
    assert run(env, "print('alive')").stdout == "alive\n"
    assert env.state.kernel_restarts == 1


def test_timeout_also_kills_what_the_code_started(env):
    obs = run(
        env,
        "import subprocess\np = subprocess.Popen(['sleep', '60'])\nprint(p.pid)\n"
        "import time\ntime.sleep(60)",
        timeout_s=0.5,
    )
    child = int(obs.stdout)
    assert obs.timed_out
    assert not os.path.exists(f"/proc/{child}") or _is_zombie_or_gone(child)


def _is_zombie_or_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in {"Z", "X"}
    except OSError:
        return True


def test_the_step_timeout_cannot_exceed_the_episode_limit(env):
    env.reset(step_timeout_s=0.3)
    obs = run(env, "import time; time.sleep(5)", timeout_s=60)
    assert obs.timed_out and obs.duration_s < 3


def test_memory_limit_raises_memory_error_and_keeps_the_namespace(env):
    env.reset(memory_mb=256)
    run(env, "kept = 5")
    obs = run(env, "block = bytearray(1024 * 2**20)")
    assert obs.exit_code == 1 and "MemoryError" in obs.stderr and "256 MiB" in obs.stderr
    assert not obs.namespace_reset
    assert run(env, "kept").stdout == "5\n"


def test_a_dying_kernel_is_restarted(env):
    run(env, "kept = 1")
    obs = run(env, "import os; os.kill(os.getpid(), 9)")
    assert obs.namespace_reset and obs.exit_code == 128 + 9 and "SIGKILL" in obs.stderr
    assert run(env, "print(1)").stdout == "1\n"


def test_output_is_capped_with_a_visible_marker(env):
    env.reset(output_limit_bytes=1000)
    obs = run(env, "print('a' * 5000 + 'END')")
    assert obs.stdout_truncated and not obs.stderr_truncated
    assert obs.stdout.startswith("a" * 500) and obs.stdout.endswith("END\n")
    assert "bytes of output dropped (limit 1000 bytes)" in obs.stdout
    assert len(obs.stdout) < 1200


def test_huge_output_does_not_hang(env):
    obs = run(
        env, "import sys\nfor _ in range(200): sys.stdout.write('x' * 100_000)\nprint('done')"
    )
    assert obs.exit_code == 0 and obs.stdout_truncated and obs.stdout.endswith("done\n")


def test_binary_and_non_utf8_output(env):
    obs = run(env, "import sys; sys.stdout.buffer.write(bytes(range(256))); sys.stdout.flush()")
    assert obs.exit_code == 0
    assert obs.stdout.startswith("\x00\x01\x02") and "\ufffd" in obs.stdout
    assert run(env, "print('\\udcff')").stdout == "\\udcff\n"  # lone surrogate: escaped, no crash


def test_input_reads_end_of_file(env):
    obs = run(env, "input()")
    assert "EOFError" in obs.stderr


def test_forked_processes_do_not_answer_for_the_kernel(env):
    obs = run(
        env,
        "import os\npid = os.fork()\nif pid == 0:\n    print('child')\nelse:\n"
        "    os.waitpid(pid, 0)\n    print('parent')",
    )
    assert obs.stdout == "child\nparent\n"
    assert run(env, "print('next')").stdout == "next\n"


def test_the_agent_cannot_read_the_environment_package(env):
    for path in (PACKAGE_DIR / "tasks.yaml", PACKAGE_DIR / "server" / "kernel.py"):
        obs = run(env, f"open({str(path)!r}).read()")
        assert obs.exit_code == 1 and "PermissionError" in obs.stderr, obs.stdout


def test_the_agent_cannot_read_host_files_or_connect(env):
    home = os.path.expanduser("~")
    obs = run(env, f"import os; os.listdir({home!r})")
    assert "PermissionError" in obs.stderr
    obs = run(env, "import socket; socket.create_connection(('127.0.0.1', 9), timeout=2)")
    assert obs.exit_code == 1 and "PermissionError" in obs.stderr


def test_the_agent_cannot_signal_the_environment(env):
    obs = run(env, f"import os; os.kill({os.getpid()}, 0)")
    if landlock.abi_version() >= 6:
        assert "PermissionError" in obs.stderr
    assert os.getpid()  # and we are alive


def test_hash_seed_and_random_are_reproducible(env):
    def draws(seed: int) -> str:
        env.reset(seed=seed, free=True)
        return run(env, "import random; print(random.random(), hash('abc'))").stdout

    assert draws(5) == draws(5)
    assert draws(5) != draws(6)


@pytest.mark.parametrize(
    "first",
    [
        "",
        "import tempfile",
        "x = 1",
        "import linecache",
        "import importlib.util; importlib.util.find_spec('random')",
        "import random as r; r.seed(1)",
    ],
    ids=[
        "direct",
        "through-tempfile",
        "later-cell",
        "after-linecache",
        "looked-up-first",
        "reseeded-by-agent",
    ],
)
def test_random_is_seeded_with_the_episodes_seed_when_first_imported(env, first):
    """The kernel imports `random` only when the agent's code does (it seeds it then):
    the draws are those of `random.seed(derive_seed(seed, "kernel"))` at the start, however
    and whenever it is first imported, until the agent seeds it itself."""
    env.reset(seed=11, free=True)
    if first:
        assert run(env, first).exit_code == 0
    drawn = run(env, "import random; print(random.random())").stdout
    expected = random.Random(1 if "seed(1)" in first else derive_seed(11, "kernel")).random()
    assert drawn == f"{expected}\n"


def test_a_reset_that_keeps_an_unused_kernel_reseeds_it(env):
    """No agent code ran, so the second reset keeps the kernel and sends it a new seed
    before `random` was ever imported: the later seed is the one the draws follow."""
    env.reset(seed=4, free=True)
    env.reset(seed=11, free=True)
    drawn = run(env, "import random; print(random.random())").stdout
    assert drawn == f"{random.Random(derive_seed(11, 'kernel')).random()}\n"


def test_a_workspace_file_does_not_replace_a_module_the_kernel_imports_late(env):
    """The workspace is the kernel's working directory, which `python -c` puts first on
    `sys.path`; the kernel drops it, so a `random.py` there is not the `random` it seeds."""
    env.reset(seed=3, free=True)
    planted = run(env, "open('random.py', 'w').write('def random():\\n    return 42\\n')")
    assert planted.exit_code == 0
    drawn = run(env, "import random; print(random.random())").stdout
    assert drawn == f"{random.Random(derive_seed(3, 'kernel')).random()}\n"


def test_enormous_code_is_refused_by_the_action_model():
    with pytest.raises(ValidationError):
        CodeAction(code="x" * 1_000_001)


def test_reset_options_are_validated():
    model = CodingEnvironment.reset_options_model()
    with pytest.raises(ValidationError):
        model(step_timeout_s=0)
    with pytest.raises(ValidationError):
        model(memory_mb=1)
    with pytest.raises(ValidationError):
        model(unknown=1)
    assert model(task_id="fizzbuzz", seed=3).task_id == "fizzbuzz"


def test_close_removes_the_workspace():
    environment = CodingEnvironment()
    environment.reset()
    path = environment.workspace.path
    pid = environment.kernel.process.pid
    environment.close()
    assert not os.path.exists(path)
    assert _is_zombie_or_gone(pid)


def test_python_path_leaves_out_the_package():
    assert all(not p.startswith(str(PACKAGE_DIR)) for p in CodingEnvironment._python_path())
    assert any(
        p.endswith(f"python{sys.version_info[0]}.{sys.version_info[1]}")
        for p in CodingEnvironment._python_path()
    )


def test_writing_on_the_kernels_channel_restarts_it(env):
    run(env, "kept = 1")
    obs = run(env, 'import os; os.write(3, b\'{"exit_code": 0, "id": 999}\\n\')')
    assert obs.namespace_reset and obs.exit_code == 1 and "control channel" in obs.stderr
    assert run(env, "print('fresh')").stdout == "fresh\n"
