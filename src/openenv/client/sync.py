"""The synchronous client: ``reset``, ``step``, ``state`` over one WebSocket session.

Example (the slides' code, verbatim)::

    client = EchoEnv(base_url="http://localhost:8000")
    result = client.reset()
    result = client.step(EchoAction(message="hi"))
    print(result.observation.echoed_message, result.reward)
    client.close()

On disconnect: the server-side session (and its episode) is gone. ``step()`` and
``state()`` then raise :class:`SessionLostError`; ``reset()`` opens a new session.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import orjson
from typing_extensions import Self
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from ..errors import WrongEnvironmentError
from ..protocol import REPLY_TYPES
from ..types import StepResult
from .core import (
    ClientCore,
    ClientOptions,
    TypedClient,
    connect_error,
    http_url,
    jsonrpc_request,
    needs_verification,
    schema_mismatch,
    served_name,
    session_lost,
    tool_value,
)

if TYPE_CHECKING:
    from ..runtime.base import Runtime

ActT = TypeVar("ActT")
ObsT = TypeVar("ObsT")
StateT = TypeVar("StateT")

RECV_SLICE_S = 0.25
"""The longest a reply is waited for at a time, so that Ctrl-C is noticed (see ``_call``)."""


class EnvClient(TypedClient[ActT, ObsT, StateT], Generic[ActT, ObsT, StateT]):
    """Synchronous client of one environment session.

    Subclass it with your types to get typed results::

        class EchoEnv(EnvClient[EchoAction, EchoObservation, State]):
            pass

    ``token`` defaults to ``$OPENENV_TOKEN``; ``message_timeout_s`` bounds the wait
    for any reply (a ``step`` given ``timeout_s`` waits that long plus 5 s).
    """

    def __init__(self, base_url: str = "http://localhost:8000", **options: Any) -> None:
        self.options = ClientOptions(base_url, **options)
        self._ws: ClientConnection | None = None
        self._core: ClientCore | None = None
        self._lost: str | None = None  # why the last session ended, if it did

    # -- the API -----------------------------------------------------------------------

    def reset(self, **options: Any) -> StepResult[ObsT]:
        """Start a new episode (``seed``, ``episode_id`` and env-specific options)."""
        return self._parse_result(self._call("reset", options, new_session_ok=True))

    def step(self, action: ActT, timeout_s: float | None = None) -> StepResult[ObsT]:
        """Apply ``action``; ``timeout_s`` asks the server to end the step by then."""
        return self._parse_result(self._call("step", self._step_payload(action), timeout_s))

    def state(self) -> StateT:
        """The episode's state (``episode_id``, ``step_count``, ...)."""
        return self._parse_state(self._call("state"))

    def list_tools(self) -> list[dict[str, Any]]:
        """The environment's MCP tools: ``[{"name", "description", "inputSchema"}, ...]``."""
        response = self._call("mcp", jsonrpc_request("tools/list", {}), new_session_ok=True)
        return list((response.get("result") or {}).get("tools", []))

    def call_tool(self, name: str, **arguments: Any) -> Any:
        """Call an MCP tool and return its value; :class:`ToolError` if it fails."""
        request = jsonrpc_request("tools/call", {"name": name, "arguments": arguments})
        return tool_value(self._call("mcp", request, new_session_ok=True), name)

    def close(self) -> None:
        """End the session (the server closes the environment). Safe to call twice.

        A client from :meth:`from_env` also stops the server it started.
        """
        try:
            self.end_session()
        finally:
            if self._launched is not None:
                self._launched()  # stops the runtime, once

    def end_session(self) -> None:
        """End the session but keep any server this client started; ``reset()`` opens
        a new session. (An :class:`~openenv.EnvPool` made from clients uses it.)"""
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.send('{"type":"close"}')
                ws.close()
            except (ConnectionClosed, OSError):
                pass
            self._lost = "closed by the client"

    # -- launchers ---------------------------------------------------------------------

    @classmethod
    def from_env(
        cls,
        env: str | Path,
        *,
        isolation: str | None = None,
        server_args: Sequence[str] = (),
        start_timeout_s: float = 60.0,
        **options: Any,
    ) -> Self:
        """Start a local server for ``env`` and return a client connected to it.

        ``env`` is an installed environment name or a folder with ``openenv.yaml``;
        ``isolation`` is ``"none"`` (environments run in the server process),
        ``"sandbox"`` (every session in its own bubblewrap sandbox) or ``None`` (the
        environment's ``openenv.yaml`` decides). The server listens on a free
        127.0.0.1 port with a random token; ``server_args`` are more ``openenv serve``
        options, ``options`` go to the client. It stops on :meth:`close`, on leaving
        ``with``, at interpreter exit and when this call fails::

            with EchoEnv.from_env("echo_env", isolation="sandbox") as client:
                client.reset()

        Raises :class:`~openenv.discovery.EnvironmentNotFound`,
        :class:`~openenv.runtime.sandbox.SandboxUnavailable` (what to install) or
        :class:`~openenv.runtime.base.RuntimeStartError` (with the server's output).
        """
        from .launch import local_runtime

        runtime = local_runtime(
            env, isolation=isolation, server_args=server_args, start_timeout_s=start_timeout_s
        )
        return cls.from_runtime(runtime, **options)

    @classmethod
    def from_docker_image(
        cls,
        image: str,
        *,
        env_vars: Mapping[str, str] | None = None,
        port: int | None = None,
        start_timeout_s: float = 60.0,
        **options: Any,
    ) -> Self:
        """Run ``image`` in a container and return a client connected to it.

        The image serves the protocol on port 8000 (``openenv build`` makes such
        images); it is published on 127.0.0.1 (``port``, else a free one), locked
        down (read-only root, tmpfs ``/tmp``, no capabilities, no-new-privileges) and
        limited: ``memory_mb``, ``pids``, ``cpus``, ``read_only``, ``tmpfs_mb`` in
        ``options`` are :class:`~openenv.runtime.container.ContainerLimits`; the other
        options go to the client. The container is removed on :meth:`close`, on
        leaving ``with``, at interpreter exit, and when this process is killed::

            with EchoEnv.from_docker_image("openenv-echo-env:latest", memory_mb=512) as env:
                env.reset()

        Raises :class:`~openenv.errors.EngineUnavailable` (no Docker or Podman) or
        :class:`~openenv.errors.RuntimeStartError` (with the container's last output).
        """
        from .launch import container_runtime

        runtime = container_runtime(
            image, env_vars=env_vars, port=port, start_timeout_s=start_timeout_s, options=options
        )
        return cls.from_runtime(runtime, **options)

    @classmethod
    def from_hub(
        cls,
        repo_id: str,
        *,
        run: Literal["local", "remote"] = "local",
        registry: str | None = None,
        **options: Any,
    ) -> Self:
        """A client for the Hugging Face Space ``repo_id`` (``OWNER/NAME``).

        ``run="local"`` (the default) pulls the image the Space is served from
        (``registry.hf.space/OWNER-NAME:latest``; ``registry`` or
        ``$OPENENV_SPACE_REGISTRY`` name another registry) and runs it here as
        :meth:`from_docker_image` does, with the same ``options``. ``run="remote"``
        connects to the running Space, ``https://OWNER-NAME.hf.space`` (a private
        Space takes ``token=`` or ``$HF_TOKEN``)::

            with EchoEnv.from_hub("team/echo-env") as env:                 # runs here
                env.reset()
            with EchoEnv.from_hub("team/echo-env", run="remote") as env:   # the Space
                env.reset()
        """
        from ..deploy.registry import space_image, space_url

        if run == "remote":
            options.setdefault("token", os.environ.get("HF_TOKEN"))
            return cls(base_url=space_url(repo_id), **options).connect()
        if run != "local":
            raise ValueError(f"run is 'local' or 'remote', not {run!r}")
        return cls.from_docker_image(space_image(repo_id, registry), **options)

    @classmethod
    def from_runtime(cls, runtime: Runtime, **options: Any) -> Self:
        """Start ``runtime`` and return a client connected to it that stops it on close."""
        from .launch import own

        try:
            base_url = runtime.start()
            options.setdefault("token", runtime.token)
            client = cls(base_url=base_url, **options)
            own(client, runtime)
            client.connect()
        except BaseException:
            runtime.stop()
            raise
        return client

    def connect(self) -> Self:
        """Open the session now rather than on the first call."""
        if self._ws is None:
            self._open()
        return self

    def sync(self) -> Self:
        """This client: it is synchronous already. (For code written for OpenEnv 0.10,
        whose clients are async and give a blocking view with ``.sync()``.)"""
        return self

    def __enter__(self) -> Self:
        return self.connect()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------

    def _open(self) -> None:
        if self._launched is not None and not self._launched.alive:
            from .launch import stopped_error

            raise stopped_error(self)
        opts = self.options
        if needs_verification(self, opts):
            self._verify_server()
        try:
            # Entered at once: websockets >= 17.1 deprecates connect() used without ``with``
            # (and its future connect() returns what ``with`` enters).
            ws = connect(
                opts.ws_url,
                subprotocols=opts.subprotocols,  # type: ignore[arg-type]
                additional_headers=opts.headers,
                open_timeout=opts.connect_timeout_s,
                max_size=opts.max_message_bytes,
                compression=None,
                proxy=None,
            ).__enter__()
        except Exception as exc:
            raise connect_error(opts.ws_url, exc) from None
        self._ws = ws
        self._core = ClientCore(extensions=ws.subprotocol is not None)
        self._lost = None

    def _verify_server(self) -> None:
        """Raise :class:`WrongEnvironmentError` if the server serves another environment.

        One ``GET /schema`` per server (cached); a server that does not answer it is
        not checked (the WebSocket then says what is wrong).
        """
        import httpx

        opts = self.options
        try:
            with httpx.Client(
                headers=opts.headers, timeout=opts.connect_timeout_s, trust_env=False
            ) as http:
                reply = http.get(http_url(opts.ws_url, "schema"))
                if reply.status_code != 200:
                    return
                problem = schema_mismatch(self, opts, reply.json())
                if problem is None:
                    return
                metadata = http.get(http_url(opts.ws_url, "metadata"))
                name = served_name(metadata.json() if metadata.status_code == 200 else None)
        except (httpx.HTTPError, ValueError):
            return
        raise WrongEnvironmentError(problem.replace("{served}", name))

    def _drop(self, reason: str) -> None:
        ws, self._ws = self._ws, None
        self._lost = reason
        if ws is not None:
            ws.close()

    def _abort(self, reason: str) -> None:
        """Cut the connection at once: no closing handshake, no wait on websockets' lock.

        The server sees the TCP connection end and closes the session.
        """
        ws, self._ws = self._ws, None
        self._lost = reason
        if ws is not None:
            try:
                ws.socket.shutdown(socket.SHUT_RDWR)  # wakes websockets' reader thread
            except OSError:
                pass

    def _call(
        self,
        kind: str,
        data: Any = None,
        timeout_s: float | None = None,
        new_session_ok: bool = False,
    ) -> dict[str, Any]:
        if self._ws is None:
            if self._lost is not None and not new_session_ok:
                raise session_lost(self._lost)
            self._open()
        ws, core = self._ws, self._core
        assert ws is not None and core is not None
        message, request_id = core.request(kind, data, timeout_s)
        wait = self.options.wait_s(timeout_s)
        deadline = time.monotonic() + wait
        try:
            try:
                ws.send(orjson.dumps(message), text=True)
            except ConnectionClosed:
                # A refused session (e.g. CAPACITY_REACHED) gets an error frame, then a
                # close; if the close beat our send, that frame is still queued: read it.
                pass
            except BaseException:
                # Interrupted inside websockets' send (Ctrl-C): the frame may be half
                # written, and websockets' connection lock may stay held for good (its
                # send_context keeps it across a generator's yield; an interrupt raised as
                # that generator is entered or left never releases it). Anything that
                # sends again, a closing handshake included, would wait forever on it.
                self._abort(f"{kind} interrupted while sending")
                raise
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                # Waited in slices: Python runs signal handlers in the main thread only,
                # and a SIGINT the kernel hands to another thread (the server's, the
                # socket reader's) does not wake a wait here; each slice's end lets a
                # Ctrl-C be raised within RECV_SLICE_S (the CI hang under load).
                try:
                    raw = ws.recv(timeout=min(remaining, RECV_SLICE_S), decode=False)
                except TimeoutError:
                    continue
                reply = core.match(raw, request_id, REPLY_TYPES[kind])
                if reply is not None:
                    return reply
        except BaseException as exc:
            drop, error = core.failed(exc, kind, wait, request_id)
            if drop is not None:
                self._drop(drop)
            if error is None:
                raise
            raise error from None
