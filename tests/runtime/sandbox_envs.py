"""An environment that misbehaves on request, to be run in a sandboxed worker.

``TrialEnv``'s action says what the step does: echo (the default, so the shared
health check works), crash the process, allocate memory, spin the CPU, write a
big file, sleep, raise, or leave a daemon process behind. It must be importable
inside the sandbox, so it lives in a module of its own (``tests`` is bound
read-only into each sandbox by :func:`openenv.runtime.isolated.package_binds`).
"""

from __future__ import annotations

import json
import os
import random
import struct
import sys
import time
from typing import Any, Literal

from openenv import Action, Environment, Observation, State


class TrialAction(Action):
    message: str = ""
    do: Literal[
        "echo",
        "crash",
        "exit",
        "memory",
        "cpu",
        "write",
        "sleep",
        "raise",
        "daemon",
        "subclass",
        "garbage",
        "bad_observation",
        "plant",
        "look",
    ] = "echo"
    amount: float = 0.0


class TrialObservation(Observation):
    echoed: str = ""
    pid: int = 0


class DetailedObservation(TrialObservation):
    """A subclass an env may return instead of its declared observation type."""

    detail: dict[str, Any] = {}


PLANTED: list[str] = []
"""Module state a session may change (``plant``); the next session must not see it."""
SCRATCH = bytearray(4096)
"""Memory a session may write (``plant``); the next session must find it zeroed."""
PLANT_FILES = ("/tmp/planted", "/workspace/planted", "/dev/shm/planted")


def _plant(message: str) -> None:
    PLANTED.append(message)
    SCRATCH[: len(message)] = message.encode()
    os.environ["PLANTED"] = message
    for path in PLANT_FILES:
        with open(path, "w") as f:
            f.write(message)


def _look() -> str:
    """What this worker finds of an earlier session's ``plant``, and a random draw."""
    return json.dumps(
        {
            "globals": PLANTED,
            "memory": bytes(SCRATCH[:64]).rstrip(b"\0").decode(errors="replace"),
            "environ": os.environ.get("PLANTED"),
            "files": [path for path in PLANT_FILES if os.path.exists(path)],
            "random": random.random(),
            "urandom": os.urandom(8).hex(),
            "status": {
                line.split(":")[0]: line.split(":", 1)[1].strip()
                for line in open("/proc/self/status")
                if line.split(":")[0]
                in ("Uid", "Gid", "CapEff", "CapPrm", "CapBnd", "NoNewPrivs", "Seccomp")
            },
            "pid": os.getpid(),
            "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
            "hostname": os.uname().nodename,
            "cgroup": open("/proc/self/cgroup").read().strip(),
            "interfaces": sorted(
                line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:]
            ),
        }
    )


def _forge_reply(body: bytes) -> None:
    """Write a frame on the worker's channel behind the worker's back (a hostile env)."""
    fd = int(sys.argv[-1])  # the worker is started as: python -S -c BOOT module:Class FD
    os.write(fd, struct.pack(">I", len(body)) + body)


class TrialEnv(Environment[TrialAction, TrialObservation, State]):
    def __init__(self) -> None:
        super().__init__()
        self.hoard: list[bytes] = []

    def _reset(
        self, seed: int | None = None, episode_id: str | None = None, **options: Any
    ) -> TrialObservation:
        return TrialObservation(pid=os.getpid())

    def _step(self, action: TrialAction, timeout_s: float | None = None) -> TrialObservation:
        amount = action.amount
        if action.do == "crash":
            os._exit(int(amount) or 3)
        elif action.do == "exit":
            raise SystemExit(int(amount))
        elif action.do == "memory":  # touch every page, so it really is resident
            for _ in range(int(amount)):
                self.hoard.append(b"\x01" * 2**20)
        elif action.do == "cpu":
            deadline = time.monotonic() + amount
            while time.monotonic() < deadline:
                pass
        elif action.do == "write":
            with open("/workspace/big.bin", "wb") as f:
                for _ in range(int(amount)):
                    f.write(b"\x02" * 2**20)
        elif action.do == "sleep":
            time.sleep(amount)
        elif action.do == "raise":
            raise KeyError(f"no such thing: {action.message}")
        elif action.do == "subclass":
            return DetailedObservation(echoed=action.message, detail={"depth": [1, 2]})
        elif action.do == "garbage":
            _forge_reply(b"{this is not json")
        elif action.do == "bad_observation":
            _forge_reply(b'{"ok": true, "observation": {"done": "maybe"}, "state": {}}')
        elif action.do == "plant":
            _plant(action.message)
        elif action.do == "look":
            return TrialObservation(echoed=_look(), pid=os.getpid())
        elif action.do == "daemon":  # a grandchild that tries to outlive its session
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(3600)
                os._exit(0)
            os.wait()
        return TrialObservation(echoed=action.message, pid=os.getpid(), reward=1.0)


class BrokenInitEnv(TrialEnv):
    """Its constructor raises: the worker cannot create it."""

    def __init__(self) -> None:
        raise ValueError("cannot build this environment")


class PreparedEnv(TrialEnv):
    """Its ``prepare_shared`` draws a token once per process; ``look`` shows it."""

    token: str | None = None

    @classmethod
    def prepare_shared(cls) -> None:
        cls.token = os.urandom(8).hex()

    def _step(self, action: TrialAction, timeout_s: float | None = None) -> TrialObservation:
        return TrialObservation(echoed=str(type(self).token))
