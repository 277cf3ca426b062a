"""An environment server in an OCI container, through the Docker Engine API.

:class:`ContainerRuntime` runs an image built by ``openenv build`` (or any image
that serves the OpenEnv protocol on a port), publishes that port on 127.0.0.1 and
waits until ``GET /health`` answers. The container is locked down by default
(:class:`ContainerLimits`): read-only root file system with a tmpfs on ``/tmp``,
every capability dropped, ``no-new-privileges``, memory and process limits, a
random bearer token. Every container carries labels naming its owner
(:data:`OWNER_LABELS`), which ``openenv ps`` lists and ``openenv down`` uses to
remove the orphans.

A container outlives the process that started it unless someone removes it, so
each start also spawns a reaper (:mod:`openenv.runtime.reaper`): a small process
of its own session that holds a pipe from this one and removes the container when
the pipe closes, which is also what happens when this process is killed with
SIGKILL. ``stop()`` removes the container itself and lets the reaper go.

Example::

    from openenv.runtime.container import ContainerRuntime
    from echo_env import EchoEnv

    with ContainerRuntime("openenv-echo-env:latest") as runtime:
        with EchoEnv(base_url=runtime.base_url, token=runtime.token) as client:
            client.reset()
    # the container is gone
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from pydantic import Field

from ..errors import RuntimeStartError
from ..suggest import StrictModel
from .base import Runtime
from .engine import LABEL, engine, engine_url, is_podman, pull_image

log = logging.getLogger("openenv.runtime")

CONTAINER_PORT = 8000
"""The port servers listen on inside an image built by ``openenv build``."""
OWNER_LABELS = ("openenv.owner.host", "openenv.owner.pid", "openenv.image")
"""Labels on every container started here, besides ``openenv.managed=1``."""
LOG_LINES = 20
LOG_BYTES_KEPT = 64 * 1024  # of a container's log, read to find its last lines


class ContainerLimits(StrictModel):
    """How a container is confined. Every field has a default; all are enforced by the engine."""

    memory_mb: int = Field(1024, ge=16, description="memory limit (the engine's cgroup)")
    pids: int = Field(256, ge=8, description="process and thread limit")
    cpus: float | None = Field(None, gt=0, description="CPU quota in cores (None: no quota)")
    read_only: bool = Field(True, description="read-only root file system")
    tmpfs_mb: int = Field(256, ge=1, description="size of the writable tmpfs on /tmp")
    sandboxes: bool = Field(
        True,
        description="let sessions with isolation 'sandbox' work inside: /proc is left unmasked "
        "so that bubblewrap can mount a /proc of its own (the server itself runs unprivileged, "
        "with no capabilities, so it gains nothing from it)",
    )


class ContainerRuntime(Runtime):
    """One environment server in one container; ``start() -> base_url``.

    ``image`` is an image name or id the engine has (or can pull); ``env_vars`` are
    set inside; ``port`` is the host port on 127.0.0.1 (``None``: a free one);
    ``limits`` a :class:`ContainerLimits` or its fields as a dict. ``token=None``
    makes a random token the server requires (pass ``token=""`` for none).
    """

    def __init__(
        self,
        image: str,
        *,
        env_vars: Mapping[str, str] | None = None,
        port: int | None = None,
        limits: ContainerLimits | Mapping[str, Any] | None = None,
        token: str | None = None,
        command: list[str] | None = None,
        start_timeout_s: float = 60.0,
    ) -> None:
        self.image = image
        self.env_vars = dict(env_vars or {})
        self.port = port
        self.limits = (
            limits
            if isinstance(limits, ContainerLimits)
            else ContainerLimits.model_validate(dict(limits or {}))
        )
        self.token = secrets.token_urlsafe(16) if token is None else (token or None)
        self.command = command
        self.start_timeout_s = start_timeout_s
        self.container_id: str | None = None
        self._reaper: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()

    # -- Runtime ---------------------------------------------------------------------------

    def start(self) -> str:
        with self._lock:
            if self.base_url is not None:
                return self.base_url
            try:
                self._run()
                self.base_url = self._wait_until_healthy()
            except BaseException:
                try:
                    self.stop()
                except Exception as exc:  # the start's own error is the one to raise
                    log.warning("could not remove the container that failed to start: %s", exc)
                raise
            return self.base_url

    def health(self) -> bool:
        if self.base_url is None:
            return False
        try:
            response = httpx.get(
                f"{self.base_url}/health", headers=self._auth(), timeout=2, trust_env=False
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def stop(self) -> None:
        with self._lock:
            container_id, self.container_id = self.container_id, None
            self.base_url = None
            try:
                if container_id is not None:
                    remove_container(container_id)
            finally:
                # Released even if the engine refused the removal: the reaper then tries.
                reaper, self._reaper = self._reaper, None
                if reaper is not None:
                    _release(reaper)

    def logs(self, lines: int = LOG_LINES) -> str:
        """The container's last ``lines`` lines of output ("" when there is none)."""
        if self.container_id is None:
            return ""
        return container_logs(self.container_id, lines)

    # -- internals -------------------------------------------------------------------------

    def _run(self) -> None:
        url = engine_url()
        client = engine(url)  # EngineUnavailable, also when the docker package is missing
        import docker.errors

        limits = self.limits
        environment = dict(self.env_vars)
        if self.token:
            environment["OPENENV_TOKEN"] = self.token
        options: dict[str, Any] = {
            "detach": True,
            "environment": environment,
            "labels": {
                LABEL: "1",
                "openenv.owner.host": socket.gethostname(),
                "openenv.owner.pid": str(os.getpid()),
                "openenv.image": self.image,
            },
            "ports": {f"{CONTAINER_PORT}/tcp": ("127.0.0.1", self.port)},
            "read_only": limits.read_only,
            "tmpfs": {"/tmp": f"rw,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777"},
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "mem_limit": f"{limits.memory_mb}m",
            "pids_limit": limits.pids,
        }
        if limits.sandboxes:
            # Podman says unmask, Docker systempaths; each refuses the other's word.
            options["security_opt"].append(
                "unmask=/proc/*" if is_podman(client) else "systempaths=unconfined"
            )
        if limits.cpus is not None:
            options["nano_cpus"] = int(limits.cpus * 1e9)
        if self.command is not None:
            options["command"] = self.command
        try:
            client.images.get(self.image)
        except docker.errors.ImageNotFound:
            try:
                pull_image(client, self.image)
            except docker.errors.APIError as exc:
                raise RuntimeStartError(
                    f"no image {self.image} here and it cannot be pulled "
                    f"({' '.join(str(exc.explanation or exc).split())[:300]}): "
                    "build it (openenv build ENV -t IMAGE) or check the name"
                ) from None
        try:
            container = client.containers.run(self.image, **options)
        except docker.errors.APIError as exc:
            raise RuntimeStartError(
                f"the engine at {url} refused to start {self.image}: {exc.explanation or exc}"
            ) from None
        self.container_id = str(container.id)
        self._reaper = _spawn_reaper(self.container_id)

    def _published_port(self) -> int | None:
        import docker.errors

        assert self.container_id is not None
        try:
            attrs = engine().api.inspect_container(self.container_id)
        except docker.errors.NotFound:
            return None
        bindings = (attrs.get("NetworkSettings", {}).get("Ports") or {}).get(
            f"{CONTAINER_PORT}/tcp"
        ) or []
        for binding in bindings:
            if binding.get("HostPort"):
                return int(binding["HostPort"])
        return None

    def _state(self) -> dict[str, Any]:
        assert self.container_id is not None
        try:
            return dict(engine().api.inspect_container(self.container_id).get("State") or {})
        except Exception:
            return {"Status": "removed"}

    def _wait_until_healthy(self) -> str:
        deadline = time.monotonic() + self.start_timeout_s
        interval = 0.02
        url: str | None = None
        with httpx.Client(timeout=2, headers=self._auth(), trust_env=False) as http:
            while True:
                state = self._state()
                if state.get("Status") in ("exited", "dead", "removed"):
                    raise RuntimeStartError(
                        self._failure(
                            f"exited with code {state.get('ExitCode')} before it was healthy"
                        )
                    )
                if url is None:
                    port = self._published_port()
                    url = f"http://127.0.0.1:{port}" if port else None
                if url is not None:
                    try:
                        if http.get(f"{url}/health").status_code == 200:
                            return url
                    except httpx.HTTPError:
                        pass
                if time.monotonic() > deadline:
                    raise RuntimeStartError(
                        self._failure(f"was not healthy within {self.start_timeout_s:g} s")
                    )
                time.sleep(interval)
                interval = min(interval * 1.5, 0.2)

    def _failure(self, what: str) -> str:
        shown = " | ".join(line for line in self.logs().splitlines() if line.strip())
        return f"container of {self.image} {what}" + (
            f"; its last output: {shown}" if shown else "; it printed nothing"
        )


# -- the containers of this host --------------------------------------------------------


def remove_container(container_id: str, wait_s: float = 60.0) -> bool:
    """Remove a container, running or not, and return once it is gone (``False`` if it
    was already). A removal already under way elsewhere (the reaper's) is waited for,
    up to ``wait_s``, so that "removed" means the engine no longer lists it."""
    import docker.errors

    api = engine().api
    try:
        api.remove_container(container_id, force=True, v=True)
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError as exc:
        if exc.status_code == 404 or "no such container" in str(exc).lower():
            return False
        if exc.status_code != 409:  # 409: removal already in progress
            raise
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                api.inspect_container(container_id)
            except docker.errors.NotFound:
                break
            time.sleep(0.05)
    return True


def container_logs(container_id: str, lines: int = LOG_LINES) -> str:
    """The last ``lines`` lines a container wrote to stdout and stderr."""
    # Not the engine's ``tail``: Podman counts a line printed in parts (its k8s-file log
    # writes "P" pieces and a closing "F" one) as its empty last piece, so a crash's only
    # line came back as "". The whole log is read instead, keeping only its end.
    kept = bytearray()
    try:
        for chunk in engine().api.logs(
            container_id, stdout=True, stderr=True, stream=True, follow=False
        ):
            kept += chunk
            del kept[: max(0, len(kept) - LOG_BYTES_KEPT)]
    except Exception:
        pass
    text = kept.decode(errors="replace")
    return "".join(text.splitlines(keepends=True)[-lines:])


def _spawn_reaper(container_id: str) -> subprocess.Popen[bytes]:
    """The process that removes ``container_id`` once this one lets go of its stdin."""
    return subprocess.Popen(
        # -P: the script's folder (this package's modules) is not put first on sys.path.
        [
            sys.executable,
            *(["-P"] if sys.version_info >= (3, 11) else []),
            str(Path(__file__).with_name("reaper.py")),
            container_id,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C here must not kill it before it has cleaned up
        env={**os.environ, "DOCKER_HOST": engine_url()},
    )


def _release(reaper: subprocess.Popen[bytes]) -> None:
    try:
        if reaper.stdin is not None:
            reaper.stdin.close()
        reaper.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        reaper.kill()
