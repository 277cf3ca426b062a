"""Removes containers once their starter lets go: ``python reaper.py ID...``.

:class:`~openenv.runtime.container.ContainerRuntime` starts one per container, in a
session of its own, with its stdin a pipe from the starting process. The reaper
blocks reading that pipe; end of file comes when the starter closes it (``stop()``,
after removing the container itself) or when the starter dies in any way, SIGKILL
included. Either way the reaper removes the containers (already gone is fine) and
exits. It talks to the engine at ``$DOCKER_HOST``, which the starter sets.
"""

from __future__ import annotations

import signal
import sys


def main(container_ids: list[str]) -> int:
    # Ctrl-C in the starter's terminal, or a hang-up, must not stop the cleanup.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while sys.stdin.buffer.read(4096):
        pass  # nothing is ever sent; only the end of the pipe matters
    # Imported only now: the reaper starts beside a container that is starting, and
    # should cost that start nothing (it runs as a script, not through the package).
    from openenv.runtime.container import remove_container

    failed = 0
    for container_id in container_ids:
        try:
            remove_container(container_id)
        except Exception as exc:  # report and go on with the others
            print(f"reaper: could not remove {container_id}: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
