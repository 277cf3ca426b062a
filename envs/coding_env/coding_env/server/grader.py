"""The grader: runs a submission against a task's hidden tests, in a fresh process.

Started like the kernel (``python -I -S -c <source>``, confined, unable to read
this package). It reads ``{"code", "tests", "path", "nonce", "test_timeout_s"}``
as JSON on stdin, runs the submitted code once, then each test in its own copy
of the resulting namespace, and reports one line per test on fd 3:
``<nonce> <index> pass|fail <ErrorType>``. A test passes when it raises nothing
within ``test_timeout_s``.

The submission's own output goes to stdout/stderr, which the environment
discards: what a test checks never reaches the agent. Results travel on a
separate descriptor with a per-run nonce, so printing lines that look like
results counts for nothing.
"""

import builtins
import json
import os
import signal
import sys


class TestTimeout(BaseException):
    """A test ran past its time (a BaseException: ``except Exception`` cannot swallow it)."""


def on_alarm(signum, frame):
    raise TestTimeout()


def main():
    job = json.loads(sys.stdin.buffer.read())
    sys.path[:] = job["path"]
    results = os.fdopen(3, "w", buffering=1)
    os.set_inheritable(3, False)
    nonce, tests, limit = job["nonce"], job["tests"], job["test_timeout_s"]
    signal.signal(signal.SIGALRM, on_alarm)

    def report(index, passed, error=""):
        results.write(f"{nonce} {index} {'pass' if passed else 'fail'} {error}\n")

    base = {"__name__": "__main__", "__builtins__": builtins}
    try:
        signal.setitimer(signal.ITIMER_REAL, limit)
        exec(compile(job["code"], "<submission>", "exec"), base)
        signal.setitimer(signal.ITIMER_REAL, 0)
    except BaseException as exc:  # a submission that does not even run passes nothing
        signal.setitimer(signal.ITIMER_REAL, 0)
        for index in range(len(tests)):
            report(index, False, type(exc).__name__)
        return
    for index, test in enumerate(tests):
        namespace = dict(base)
        try:
            signal.setitimer(signal.ITIMER_REAL, limit)
            exec(compile(test, f"<test {index}>", "exec"), namespace)
            signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException as exc:
            signal.setitimer(signal.ITIMER_REAL, 0)
            report(index, False, type(exc).__name__)
        else:
            report(index, True)


if __name__ == "__main__":
    main()
