"""Running a verifier in a fresh, clean process of its own.

A verifier is trusted code that judges what the agent left behind. It runs after
every process of the agent's is gone, in a new interpreter started for it alone:

* ``python -I -S -B``: isolated mode — no ``PYTHON*`` variables, no user site, no
  site module, no current directory on ``sys.path`` — with ``sys.path`` set to the
  environment's own import path minus anything the agent can write;
* working directory ``/`` and ``HOME=/``, a fixed ``PATH`` of system directories,
  and no other variable: nothing the agent wrote is on any import or command path,
  and no configuration of its (``~/.gitconfig``, ``.pythonrc``) is read;
* a memory limit and a wall-clock limit; past the limit it is killed.

It receives its job as JSON and answers with one JSON value on a pipe of its own
(a descriptor of its own, not inherited by programs it starts), so nothing printed by
it or by a program it runs can be taken for its answer.

Example::

    result = run_trusted("terminal_env.server.verify:verify", {"task_id": "t1"}, timeout_s=60)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import TrustedFailure
from ..runtime.programs import CappedOutput, collect_output, kill_group

__all__ = ["TrustedFailure", "run_trusted", "trusted_path"]

BOOTSTRAP = """\
import json, os, sys
request = json.loads(sys.stdin.buffer.read())
sys.path[:] = request["path"]
answers = os.fdopen(request["answer_fd"], "w")
os.set_inheritable(request["answer_fd"], False)
module_name, _, function = request["function"].partition(":")
module = __import__(module_name, fromlist=[function])
answer = getattr(module, function)(request["job"])
answers.write(json.dumps(answer))
answers.close()
"""
ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/", "LANG": "C.UTF-8"}
MAX_ANSWER_BYTES = 4 * 2**20


def trusted_path(untrusted: Iterable[str] = ()) -> list[str]:
    """This process's import path without relative entries and without ``untrusted`` dirs."""
    banned = [os.path.realpath(p).rstrip("/") + "/" for p in untrusted]
    kept = []
    for entry in sys.path:
        if not entry or not os.path.isabs(entry):
            continue
        real = os.path.realpath(entry).rstrip("/") + "/"
        if any(real.startswith(b) for b in banned):
            continue
        kept.append(entry)
    return list(dict.fromkeys(kept))


def run_trusted(
    function: str,
    job: Any,
    *,
    timeout_s: float,
    untrusted: Sequence[str] = (),
    memory_mb: int = 2048,
) -> Any:
    """Call ``module:function(job)`` in a fresh clean interpreter; return its JSON answer.

    ``untrusted`` are directories the agent can write (kept off ``sys.path``).
    Raises :class:`TrustedFailure` when the process does not answer in time or fails.
    """
    read_end, write_end = os.pipe()
    request = json.dumps(
        {
            "function": function,
            "job": job,
            "path": trusted_path(untrusted),
            "answer_fd": write_end,
        }
    ).encode()
    started = time.monotonic()

    def limit_memory() -> None:
        import resource

        size = memory_mb * 2**20
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            size = min(size, hard)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    try:
        process = subprocess.Popen(
            [os.path.realpath(sys.executable), "-I", "-S", "-B", "-c", BOOTSTRAP],
            cwd="/",
            env=ENVIRONMENT,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(write_end,),
            preexec_fn=limit_memory,
            start_new_session=True,
        )
    finally:
        os.close(write_end)
    assert process.stdin is not None and process.stderr is not None
    answer, stderr = CappedOutput(MAX_ANSWER_BYTES), CappedOutput(8192)
    try:
        try:
            process.stdin.write(request)
            process.stdin.close()
        except BrokenPipeError:
            pass
        outputs = {read_end: answer, process.stderr.fileno(): stderr}
        finished = collect_output(outputs, started + timeout_s, process)
        if finished is not False:  # its pipes closed; it may not have exited yet
            try:
                process.wait(max(started + timeout_s - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                finished = False
    finally:
        kill_group(process)
        process.stderr.close()
        os.close(read_end)
    if finished is False:
        raise TrustedFailure(f"{function} did not answer within {timeout_s:g} s", stderr.text())
    if answer.truncated or process.returncode != 0:
        raise TrustedFailure(f"{function} failed (exit status {process.returncode})", stderr.text())
    try:
        return json.loads(bytes(answer.head + answer.tail))
    except ValueError:
        raise TrustedFailure(f"{function} gave no JSON answer", stderr.text()) from None
