"""Run a server script under a CPU-time sampling profiler (stdlib only).

    python benchmarks/servers/_sampled.py OUT.txt benchmarks/servers/ours.py --port 8123

``SIGPROF`` fires every ``OPENENV_BENCH_SAMPLE_S`` seconds of the process's CPU
time (user + system, default 1 ms); the handler records the main thread's Python
stack. At exit the samples are written to ``OUT.txt`` as collapsed stacks
(``outer;...;leaf count`` per line, the format of flame-graph tools). Time spent
in C code or in a system call is charged to the Python line that called it, so
the figures are the CPU each Python function costs, kernel work included.
``SIGUSR1`` clears the samples (start of the measured window), ``SIGUSR2`` stops
sampling and writes the file (its end), so start-up and shut-down stay out of the
profile (and uvicorn, which re-raises SIGTERM on exit, never skips the write).

Why not py-spy: on this kind of VM, ptrace-based samplers stop the process at
system-call boundaries and charge far too much to cheap system calls (``getpid``,
``epoll_ctl``); ``perf`` agrees with this sampler, not with them.
"""

from __future__ import annotations

import atexit
import collections
import os
import runpy
import signal
import sys
from types import CodeType, FrameType

_counts: collections.Counter[tuple[CodeType, ...]] = collections.Counter()
_out = ""
_dumped = False


def _sample(signum: int, frame: FrameType | None) -> None:
    stack = []
    while frame is not None:
        stack.append(frame.f_code)
        frame = frame.f_back
    _counts[tuple(reversed(stack))] += 1


def _window(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGUSR1:
        _counts.clear()
    else:
        _dump(_out)


def _name(code: CodeType) -> str:
    path = code.co_filename
    for marker in ("site-packages/", "lib/python3.", "/src/", "/benchmarks/"):
        if marker in path:
            path = path.rsplit(marker, 1)[1]
            if marker == "lib/python3.":
                path = path.split("/", 1)[-1]
            break
    qualname = getattr(code, "co_qualname", code.co_name)
    return f"{qualname} ({path})"


def _dump(out: str) -> None:
    global _dumped
    signal.setitimer(signal.ITIMER_PROF, 0, 0)
    if _dumped:
        return
    _dumped = True
    with open(out, "w") as f:
        for stack, count in _counts.items():
            f.write(";".join(_name(c) for c in stack) + f" {count}\n")


def main() -> None:
    global _out
    out, script, *args = sys.argv[1:]
    _out = out
    interval = float(os.environ.get("OPENENV_BENCH_SAMPLE_S", "0.001"))
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    atexit.register(_dump, out)
    signal.signal(signal.SIGPROF, _sample)
    signal.signal(signal.SIGUSR1, _window)
    signal.signal(signal.SIGUSR2, _window)
    signal.setitimer(signal.ITIMER_PROF, interval, interval)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
