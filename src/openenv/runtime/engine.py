"""The container engine: one Docker Engine API client, from Docker or from Podman.

Everything container-shaped in OpenEnv (``openenv build``, ``from_docker_image``,
``openenv serve --isolation container``, ``openenv ps`` / ``down``, ``openenv push
--registry``) talks to the engine through the ``docker`` PyPI package, so the same
code drives a Docker daemon or Podman's Docker-compatible service. :func:`engine`
finds one, in this order:

1. ``$DOCKER_HOST``, when set (``unix:///run/podman/podman.sock``, ``tcp://...``);
2. Docker's socket, ``/var/run/docker.sock``, when something answers there;
3. Podman's service on a socket of ours (``$OPENENV_PODMAN_SOCKET``, by default
   ``/tmp/openenv-podman-<uid>/podman.sock``), started here with ``podman system
   service`` if it is not running. It exits by itself after
   :data:`PODMAN_IDLE_S` seconds without a request; containers outlive it.

Anything else raises :class:`~openenv.errors.EngineUnavailable`, saying what to
install. Example::

    from openenv.runtime.engine import engine

    client = engine()                    # a docker.DockerClient
    client.containers.list(filters={"label": "openenv.managed=1"})
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EngineUnavailable

if TYPE_CHECKING:
    import docker

PODMAN_IDLE_S = 600
"""Seconds of idleness after which a Podman service started here exits."""
START_TIMEOUT_S = 20.0
"""How long to wait for a Podman service started here to answer."""

LABEL = "openenv.managed"
"""Label on every container and image OpenEnv makes (value ``1``)."""

_lock = threading.Lock()


def podman_socket() -> Path:
    """Where a Podman service started by OpenEnv listens."""
    chosen = os.environ.get("OPENENV_PODMAN_SOCKET")
    if chosen:
        return Path(chosen)
    return Path(f"/tmp/openenv-podman-{os.getuid()}") / "podman.sock"


def engine(url: str | None = None) -> docker.DockerClient:
    """A connected Docker Engine API client for ``url``, by default :func:`engine_url`'s
    (see the module docstring for the order).

    Cached per process and engine; raises :class:`~openenv.errors.EngineUnavailable`.
    """
    return _client(url or engine_url())


def engine_url() -> str:
    """The URL of the engine :func:`engine` talks to (``unix://...`` or ``tcp://...``).

    Processes started from here (the container reaper) are given it as ``$DOCKER_HOST``.
    """
    with _lock:
        chosen = os.environ.get("DOCKER_HOST", "")
        if chosen:
            return chosen
        docker_socket = Path("/var/run/docker.sock")
        if _answers(docker_socket):
            return f"unix://{docker_socket}"
        return _start_podman()


@functools.lru_cache(maxsize=4)
def _client(url: str) -> docker.DockerClient:
    try:
        import docker
    except ImportError:
        raise EngineUnavailable(
            "containers need the docker package: pip install 'openenv-rl[containers]'"
        ) from None
    client = docker.DockerClient(base_url=url, timeout=300)
    try:
        client.ping()
    except Exception as exc:
        client.close()
        raise EngineUnavailable(f"no container engine answers at {url}: {exc}") from None
    return client


def pull_image(client: docker.DockerClient, reference: str) -> None:
    """Pull ``reference`` (``host:port/repo:tag``); raises ``docker.errors.APIError``.

    A registry on this machine's loopback is spoken to over plain HTTP, as Docker
    does by default. Podman's Docker-compatible pull has no switch for that, so on
    Podman the pull goes through its own API (``/libpod/images/pull?tlsVerify=false``).
    """
    import docker.errors

    api = client.api
    insecure = is_loopback_registry(reference)
    if is_podman(client):
        params = {"reference": reference, **({"tlsVerify": "false"} if insecure else {})}
        response = api._post(api._url("/libpod/images/pull"), params=params, stream=True)
    else:
        repository, tag = split_reference(reference)
        params = {"fromImage": repository, "tag": tag}
        response = api._post(api._url("/images/create"), params=params, stream=True)
    api._raise_for_status(response)
    for chunk in api._stream_helper(response, decode=True):
        if chunk.get("error"):
            raise docker.errors.APIError(str(chunk["error"]))


def split_reference(reference: str) -> tuple[str, str]:
    """``"host:5000/ns/name:v1"`` -> ``("host:5000/ns/name", "v1")``; the tag defaults to latest."""
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag:
        return reference, "latest"
    return name, tag


def is_loopback_registry(reference: str) -> bool:
    """Whether the registry part of ``reference`` is ``localhost`` or a 127.x address."""
    first = reference.split("/", 1)[0]
    if "/" not in reference or ("." not in first and ":" not in first and first != "localhost"):
        return False
    host = first.rsplit(":", 1)[0] if first.count(":") == 1 else first
    return host == "localhost" or host.startswith("127.") or host == "[::1]"


def is_podman(client: docker.DockerClient) -> bool:
    """Whether ``client`` talks to Podman's service rather than a Docker daemon."""
    components = client.version().get("Components") or []
    return any("podman" in str(c.get("Name", "")).lower() for c in components)


def _start_podman() -> str:
    """The URL of Podman's Docker API service on our socket, started if need be."""
    podman = shutil.which("podman")
    if podman is None:
        raise EngineUnavailable(
            "no container engine: set DOCKER_HOST, start Docker, or install Podman "
            "(Debian: apt-get install podman runc; see docs/deploy.md)"
        )
    socket = podman_socket()
    url = f"unix://{socket}"
    if _answers(socket):
        return url
    socket.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    socket.unlink(missing_ok=True)
    log = socket.with_name("podman-service.log")
    with open(log, "ab") as out:
        # A session of its own: the service outlives this process, and Ctrl-C here
        # does not reach it (containers it started keep being served). Its working
        # directory is the socket's: a service left in a directory that was deleted
        # later (a test's checkout) fails every container it starts in runc.
        process = subprocess.Popen(
            [podman, "system", "service", f"--time={PODMAN_IDLE_S}", url],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            cwd=socket.parent,
            start_new_session=True,
        )
    # It exits by itself when idle; while this process lives, reap it then (else it
    # stays a zombie child of a long-running server or test run).
    threading.Thread(target=process.wait, name="openenv-podman-reaper", daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers(socket):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise EngineUnavailable(
                f"podman system service did not start on {url}: "
                + (" | ".join(tail) or "no output")
                + f" (log: {log})"
            )
        time.sleep(0.05)
    return url


def _answers(socket: Path) -> bool:
    """Whether an Engine API answers ``/_ping`` on ``socket``."""
    import http.client
    import socket as sockets

    if not socket.exists():
        return False

    class _Unix(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
            self.sock.settimeout(2)
            self.sock.connect(str(socket))

    connection = _Unix("localhost", timeout=2)
    try:
        connection.request("GET", "/_ping")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()
