"""Run a command as a child subreaper, and say which processes it had to reap.

    python tests/runtime/reaper.py CMD ARGS...

This process becomes a child subreaper (``PR_SET_CHILD_SUBREAPER``), so any
descendant of CMD orphaned on the way — e.g. a sandbox left behind when the
server dies — is re-parented here instead of to PID 1 (which on some machines
never reaps). It reaps every child until none is left, then prints one JSON line,
``{"command_pid": ..., "command_status": ..., "reaped": [pids other than CMD]}``,
and exits. So it exits only when CMD *and everything CMD started* are gone.
CMD's own output goes to stderr.
The first line it prints is ``{"command_pid": PID}`` as soon as CMD is started.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36


def main() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    command = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=sys.stderr)
    print(json.dumps({"command_pid": command.pid}), flush=True)
    status = None
    reaped = []
    while True:
        try:
            pid, wait_status = os.wait()
        except ChildProcessError:
            break
        if pid == command.pid:
            status = os.waitstatus_to_exitcode(wait_status)
        else:
            reaped.append(pid)
    command.returncode = status  # reaped above; keep Popen from waiting again
    print(json.dumps({"command_pid": command.pid, "command_status": status, "reaped": reaped}))


if __name__ == "__main__":
    main()
