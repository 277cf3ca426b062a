"""Agent programs inside environments: Landlock, capped output, deadlines, interpreters."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from openenv.runtime import landlock
from openenv.runtime.programs import (
    CappedOutput,
    Confinement,
    Interpreter,
    Workspace,
    _without,
    describe_exit,
    readable_paths,
    run_program,
)
from tests.conftest import wait_until

needs_landlock = pytest.mark.skipif(landlock.abi_version() == 0, reason="no Landlock here")


# -- CappedOutput -----------------------------------------------------------------------------


def test_capped_output_keeps_everything_within_the_limit():
    out = CappedOutput(100)
    for chunk in (b"hello ", b"world"):
        out.feed(chunk)
    assert (out.text(), out.truncated, out.total) == ("hello world", False, 11)


def test_capped_output_keeps_head_and_tail_and_marks_the_cut():
    out = CappedOutput(10)
    out.feed(b"0123456789")
    assert not out.truncated
    out.feed(b"abcdef")
    assert out.truncated and out.total == 16
    text = out.text()
    assert text.startswith("01234") and text.endswith("bcdef")
    assert "6 bytes of output dropped (limit 10 bytes)" in text


def test_capped_output_decodes_leniently():
    out = CappedOutput(100)
    out.feed("é".encode()[:1] + b"\xff" + b"ok")
    assert out.text().endswith("ok") and "\ufffd" in out.text()


def test_capped_output_in_many_small_chunks_equals_one_big_one():
    data = bytes(range(256)) * 40
    one, many = CappedOutput(1000), CappedOutput(1000)
    one.feed(data)
    for i in range(0, len(data), 7):
        many.feed(data[i : i + 7])
    assert one.text() == many.text()


# -- readable paths ---------------------------------------------------------------------------


def test_without_opens_a_directory_entry_by_entry_around_hidden_paths(tmp_path):
    for name in ("a/x", "a/secret/y", "b"):
        (tmp_path / name).mkdir(parents=True)
    hidden = {str(tmp_path / "a" / "secret")}
    assert _without(str(tmp_path), hidden) == [str(tmp_path / "a" / "x"), str(tmp_path / "b")]
    assert _without(str(tmp_path / "b"), hidden) == [str(tmp_path / "b")]
    assert _without(str(tmp_path / "a" / "secret"), hidden) == []


def test_readable_paths_include_python_and_leave_out_what_is_hidden():
    paths = readable_paths()
    assert "/usr" in paths and os.path.realpath(sys.base_prefix) in paths
    assert "/etc/passwd" in paths and "/etc/shadow" not in paths and "/etc" not in paths
    hidden = os.path.dirname(os.path.realpath(pytest.__file__))
    assert not any(p == hidden or p.startswith(hidden + "/") for p in readable_paths([hidden]))


# -- Confinement and run_program --------------------------------------------------------------


@pytest.fixture
def workspace():
    ws = Workspace(prefix="openenv-test-")
    yield ws
    ws.remove()


def confined(workspace: Workspace, **options) -> Confinement:
    return Confinement(workspace=workspace.path, writable=[workspace.tmp], **options)


def sh(workspace: Workspace, script: str, timeout_s: float = 10, **options):
    return run_program(
        ["/bin/sh", "-c", script], confinement=confined(workspace, **options), timeout_s=timeout_s
    )


def test_run_program_reports_output_and_exit_code(workspace):
    result = sh(workspace, "echo out; echo err >&2; exit 3")
    assert (result.stdout.text(), result.stderr.text(), result.exit_code) == ("out\n", "err\n", 3)
    assert not result.timed_out and result.duration_s > 0


def test_run_program_feeds_stdin(workspace):
    result = run_program(["/bin/cat"], confinement=confined(workspace), timeout_s=5, stdin=b"piped")
    assert result.stdout.text() == "piped"


def test_run_program_runs_in_the_workspace_with_a_clean_environment(workspace, monkeypatch):
    monkeypatch.setenv("SERVER_SECRET", "hunter2")
    result = sh(workspace, "pwd; env | sort", environment={"EXTRA": "1"})
    lines = result.stdout.text().splitlines()
    assert lines[0] == workspace.path
    names = {line.split("=", 1)[0] for line in lines[1:]}
    assert "SERVER_SECRET" not in names and {"PATH", "HOME", "LANG", "TMPDIR", "EXTRA"} <= names


def test_run_program_kills_the_whole_group_at_the_deadline(workspace):
    result = sh(workspace, "sleep 60 & echo $!; sleep 60", timeout_s=0.5)
    assert result.timed_out
    child = int(result.stdout.text())
    wait_until(lambda: not _alive(child))


def test_run_program_does_not_wait_for_orphans_holding_its_pipes(workspace):
    # Waiting for the orphan (60 s) would run into the deadline (20 s) and say so.
    result = sh(workspace, "(setsid sleep 60 & echo $! >&2) ; echo done", timeout_s=20)
    orphan = int(result.stderr.text())
    try:
        assert result.stdout.text() == "done\n" and not result.timed_out
    finally:
        os.kill(orphan, signal.SIGKILL)


def test_run_program_results_channel_is_separate_from_output(workspace):
    result = run_program(
        ["/bin/sh", "-c", "echo to-stdout; echo reported >&3"],
        confinement=confined(workspace),
        timeout_s=5,
        results=True,
    )
    assert result.stdout.text() == "to-stdout\n" and result.results == b"reported\n"


def test_memory_limit_applies(workspace):
    code = "b = bytearray(600 * 2**20)"
    result = run_program(
        [sys.executable, "-S", "-c", code],
        confinement=confined(workspace, memory_mb=256, landlock_required=False),
        timeout_s=20,
    )
    assert result.exit_code != 0 and "MemoryError" in result.stderr.text()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in {"Z", "X"}
    except OSError:
        return False


@needs_landlock
def test_confinement_limits_reads_writes_and_tcp(workspace, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("host secret")
    script = (
        f"cat {outside} || echo no-read; echo x > {tmp_path}/new || echo no-write; "
        f"echo y > {workspace.path}/mine && echo wrote; ls /usr/bin >/dev/null && echo usr-ok"
    )
    text = sh(workspace, script).stdout.text()
    assert "host secret" not in text
    assert "no-read" in text and "no-write" in text and "wrote" in text and "usr-ok" in text
    connect = "import socket; socket.create_connection(('127.0.0.1', 9), timeout=2)"
    result = run_program(
        [sys.executable, "-S", "-c", connect], confinement=confined(workspace), timeout_s=10
    )
    assert "PermissionError" in result.stderr.text()


@needs_landlock
def test_confinement_hides_paths_beneath_readable_ones(workspace):
    hidden = os.path.dirname(os.path.realpath(pytest.__file__))
    script = f"ls {hidden} >/dev/null 2>&1 && echo visible || echo hidden"
    assert sh(workspace, script, hidden=[hidden]).stdout.text() == "hidden\n"
    assert sh(workspace, script).stdout.text() == "visible\n"


def test_landlock_unavailable_is_refused_unless_allowed(monkeypatch, workspace):
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)
    with pytest.raises(landlock.LandlockUnavailable):
        landlock.confine(["/usr"])
    assert landlock.confine(["/usr"], required=False) == 0
    with pytest.raises(landlock.LandlockUnavailable, match="hidden files"):
        confined(workspace).popen(["/bin/true"])
    process = confined(workspace, landlock_required=False).popen(["/bin/true"])
    assert process.wait(10) == 0


# -- Interpreter ------------------------------------------------------------------------------


def test_interpreter_answers_requests_and_keeps_state(workspace):
    shell = Interpreter(["/bin/bash", "--norc"], confined(workspace))
    try:
        first = shell.request(stdin=b"X=41; echo hi; echo '1' >&3\n", timeout_s=5)
        assert (first.reply, first.stdout.text()) == (b"1", "hi\n")
        second = shell.request(stdin=b"echo $((X + 1)); echo '2' >&3\n", timeout_s=5)
        assert (second.reply, second.stdout.text()) == (b"2", "42\n")
        fields = second.output_fields()
        assert fields["stdout"] == "42\n" and fields["stdout_truncated"] is False
    finally:
        shell.stop()


def test_interpreter_timeout_kills_it(workspace):
    shell = Interpreter(["/bin/bash", "--norc"], confined(workspace))
    try:
        exchange = shell.request(stdin=b"echo partial; sleep 60\n", timeout_s=0.5)
        assert exchange.timed_out and exchange.reply is None and not shell.alive
        assert exchange.stdout.text() == "partial\n"
        again = shell.request(stdin=b"echo back >&3\n", timeout_s=5)  # starts a new one
        assert again.reply == b"back"
    finally:
        shell.stop()


def test_interpreter_death_is_reported_with_its_exit_status(workspace):
    shell = Interpreter(["/bin/bash", "--norc"], confined(workspace))
    try:
        exchange = shell.request(stdin=b"exit 7\n", timeout_s=5)
        assert (exchange.reply, exchange.exit_code, exchange.timed_out) == (None, 7, False)
    finally:
        shell.stop()


def test_describe_exit():
    assert describe_exit(3) == "exit status 3"
    assert describe_exit(-9).startswith("killed by SIGKILL")
    assert describe_exit(-15) == "killed by SIGTERM"
    assert describe_exit(None) == "ended"


def test_workspace_clear_and_remove():
    ws = Workspace(prefix="openenv-test-")
    (open(os.path.join(ws.path, "f"), "w")).close()
    os.makedirs(os.path.join(ws.tmp, "d"))
    os.chmod(ws.path, 0o755)
    ws.clear()
    assert os.listdir(ws.path) == [] and os.listdir(ws.tmp) == []
    assert not ws.tmp.startswith(ws.path)
    ws.remove()
    assert not os.path.exists(ws.path) and not os.path.exists(ws.tmp)


def test_preexec_is_safe_in_a_threaded_process(workspace):
    # Servers call it from worker threads; it must not import or allocate locks after fork.
    import threading

    results: list[int] = []

    def start() -> None:
        process = confined(workspace).popen(["/bin/true"], stdout=subprocess.DEVNULL)
        results.append(process.wait(10))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [0] * 8


def test_run_program_waits_for_a_program_that_closed_its_output(workspace):
    result = sh(workspace, "exec >/dev/null 2>&1; sleep 0.3; exit 4")
    assert (result.exit_code, result.timed_out) == (4, False)
    late = sh(workspace, "exec >/dev/null 2>&1; sleep 60", timeout_s=0.5)
    assert late.timed_out


def test_step_limit_keeps_within_the_episode_and_the_servers_deadline():
    from openenv.runtime.programs import step_limit

    assert step_limit(None, 10, None) == 10
    assert step_limit(3, 10, None) == 3
    assert step_limit(30, 10, None) == 10
    assert step_limit(None, 10, 5) == 4.5
    assert step_limit(None, 10, 0.2) == 0.1


def test_missing_for_sandboxed_programs_names_what_is_lacking(monkeypatch):
    from openenv.runtime import programs

    monkeypatch.setattr(landlock, "abi_version", lambda: 0)
    reason = programs.missing_for_sandboxed_programs()
    assert reason is not None and ("Landlock" in reason or "bubblewrap" in reason)


def test_remove_entry_does_not_cross_into_a_mount(tmp_path):
    """A sandbox binds read-only host paths again under its /tmp (a checkout there);
    clearing /tmp must neither walk nor empty them. Here the mount is writable, so
    crossing it would delete the files below it."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) for a mount namespace")
    host = tmp_path / "host"
    (host / "pkg").mkdir(parents=True)
    (host / "pkg" / "keep.py").write_text("x = 1\n")
    tree = tmp_path / "tmp"
    script = f"""
import os
import shutil
from openenv.runtime.programs import remove_entry
tree = {str(tree)!r}
os.makedirs(tree)
os.system("mount -t tmpfs none " + tree)  # as a sandbox's /tmp is
os.makedirs(tree + "/checkout/src/host")
os.makedirs(tree + "/agent/deep/er")
open(tree + "/agent/deep/er/f", "w").close()
open(tree + "/checkout/src/mine", "w").close()
os.system("mount --bind {host} " + tree + "/checkout/src/host")
remove_entry(tree + "/agent")
remove_entry(tree + "/checkout")
print(sorted(os.listdir(tree)), sorted(os.listdir(tree + "/checkout/src")))
"""
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", sys.executable, "-c", script],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The agent's tree is gone; the mount and the directories above it stay, the rest goes.
    assert done.stdout.split("\n")[0] == "['checkout'] ['host']", done.stdout
    assert (host / "pkg" / "keep.py").read_text() == "x = 1\n"
