"""The asynchronous client: the same session API as :class:`EnvClient`, awaited.

Example::

    async with AsyncEchoEnv(base_url="http://localhost:8000") as client:
        result = await client.reset(seed=1)
        result = await client.step(EchoAction(message="hi"))

It shares every protocol decision with the sync client (:mod:`openenv.client.core`);
only the socket differs. Calls on one client are serialised; use one client per
session (see ``EnvPool`` for many).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import orjson
from typing_extensions import Self
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

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
from .timeouts import LazyTimeout

if TYPE_CHECKING:
    from ..runtime.base import Runtime

ActT = TypeVar("ActT")
ObsT = TypeVar("ObsT")
StateT = TypeVar("StateT")


_closing: set[asyncio.Future[None]] = set()


async def _send(ws: ClientConnection, message: dict[str, Any]) -> None:
    try:
        await ws.send(orjson.dumps(message), text=True)
    except ConnectionClosed:
        # A refused session (e.g. CAPACITY_REACHED) gets an error frame, then a close;
        # if the close beat our send, that frame is still queued: read it.
        pass


STEP_REPLY = REPLY_TYPES["step"]


@dataclass(frozen=True, slots=True)
class _SentStep:
    """A step sent on ``ws`` whose reply is still to be read (see ``_send_step``)."""

    ws: ClientConnection
    core: ClientCore
    request_id: Any
    wait: float
    deadline: float  # on the event loop's clock


"""Close handshakes still running after a dropped connection."""


async def _in_thread(stop: Callable[[], object]) -> None:
    """Run a blocking ``stop`` in a thread; if we are cancelled meanwhile, it still finishes."""
    await asyncio.shield(asyncio.ensure_future(asyncio.to_thread(stop)))


class AsyncEnvClient(TypedClient[ActT, ObsT, StateT], Generic[ActT, ObsT, StateT]):
    """Asynchronous client of one environment session; see :class:`EnvClient`."""

    def __init__(self, base_url: str = "http://localhost:8000", **options: Any) -> None:
        self.options = ClientOptions(base_url, **options)
        self._ws: ClientConnection | None = None
        self._core: ClientCore | None = None
        self._lost: str | None = None
        self._lock = asyncio.Lock()
        self._timeout = LazyTimeout()  # one timer for all requests (see timeouts.py)

    # -- the API -----------------------------------------------------------------------

    async def reset(self, **options: Any) -> StepResult[ObsT]:
        """Start a new episode (``seed``, ``episode_id`` and env-specific options)."""
        return self._parse_result(await self._call("reset", options, new_session_ok=True))

    async def step(self, action: ActT, timeout_s: float | None = None) -> StepResult[ObsT]:
        """Apply ``action``; ``timeout_s`` asks the server to end the step by then."""
        return self._parse_result(await self._call("step", self._step_payload(action), timeout_s))

    async def state(self) -> StateT:
        """The episode's state (``episode_id``, ``step_count``, ...)."""
        return self._parse_state(await self._call("state"))

    async def list_tools(self) -> list[dict[str, Any]]:
        """The environment's MCP tools: ``[{"name", "description", "inputSchema"}, ...]``."""
        response = await self._call("mcp", jsonrpc_request("tools/list", {}), new_session_ok=True)
        return list((response.get("result") or {}).get("tools", []))

    async def call_tool(self, name: str, **arguments: Any) -> Any:
        """Call an MCP tool and return its value; :class:`ToolError` if it fails."""
        request = jsonrpc_request("tools/call", {"name": name, "arguments": arguments})
        return tool_value(await self._call("mcp", request, new_session_ok=True), name)

    async def close(self) -> None:
        """End the session (the server closes the environment). Safe to call twice.

        A client from :meth:`from_env` also stops the server it started.
        """
        try:
            await self.end_session()
        finally:
            if self._launched is not None and self._launched.alive:
                await _in_thread(self._launched)  # stops the runtime, once

    async def end_session(self) -> None:
        """End the session but keep any server this client started; ``reset()`` opens
        a new session."""
        ws, self._ws = self._ws, None
        self._timeout.cancel()
        if ws is not None:
            try:
                await ws.send('{"type":"close"}')
                await ws.close()
            except (ConnectionClosed, OSError):
                pass
            self._lost = "closed by the client"

    # -- launchers ---------------------------------------------------------------------

    @classmethod
    async def from_env(
        cls,
        env: str | Path,
        *,
        isolation: str | None = None,
        server_args: Sequence[str] = (),
        start_timeout_s: float = 60.0,
        **options: Any,
    ) -> Self:
        """Start a local server for ``env`` and return a client connected to it.

        The async twin of :meth:`EnvClient.from_env <openenv.EnvClient.from_env>`
        (same arguments); the server starts in a thread, so the event loop goes on::

            async with await AsyncEchoEnv.from_env("echo_env", isolation="sandbox") as env:
                await env.reset()
        """
        from .launch import local_runtime

        runtime = await asyncio.to_thread(
            local_runtime,
            env,
            isolation=isolation,
            server_args=server_args,
            start_timeout_s=start_timeout_s,
        )
        return await cls.from_runtime(runtime, **options)

    @classmethod
    async def from_docker_image(
        cls,
        image: str,
        *,
        env_vars: Mapping[str, str] | None = None,
        port: int | None = None,
        start_timeout_s: float = 60.0,
        **options: Any,
    ) -> Self:
        """Run ``image`` in a container and return a client connected to it.

        The async twin of :meth:`EnvClient.from_docker_image
        <openenv.EnvClient.from_docker_image>` (same arguments); the container starts
        in a thread, so the event loop goes on::

            async with await AsyncEchoEnv.from_docker_image("openenv-echo-env:latest") as env:
                await env.reset()
        """
        from .launch import container_runtime

        runtime = await asyncio.to_thread(
            container_runtime,
            image,
            env_vars=env_vars,
            port=port,
            start_timeout_s=start_timeout_s,
            options=options,
        )
        return await cls.from_runtime(runtime, **options)

    @classmethod
    async def from_hub(
        cls,
        repo_id: str,
        *,
        run: Literal["local", "remote"] = "local",
        registry: str | None = None,
        **options: Any,
    ) -> Self:
        """A client for the Hugging Face Space ``repo_id``: its image run here, or the Space.

        The async twin of :meth:`EnvClient.from_hub <openenv.EnvClient.from_hub>`::

            async with await AsyncEchoEnv.from_hub("team/echo-env") as env:
                await env.reset()
        """
        from ..deploy.registry import space_image, space_url

        if run == "remote":
            options.setdefault("token", os.environ.get("HF_TOKEN"))
            client = cls(base_url=space_url(repo_id), **options)
            return await client.connect()
        if run != "local":
            raise ValueError(f"run is 'local' or 'remote', not {run!r}")
        return await cls.from_docker_image(space_image(repo_id, registry), **options)

    @classmethod
    async def from_runtime(cls, runtime: Runtime, **options: Any) -> Self:
        """Start ``runtime`` and return a client connected to it that stops it on close."""
        from .launch import own

        try:
            base_url = await asyncio.to_thread(runtime.start)
            options.setdefault("token", runtime.token)
            client = cls(base_url=base_url, **options)
            own(client, runtime)
            await client.connect()
        except BaseException:
            # Also when cancelled: stop() waits for a start still running in its thread.
            await _in_thread(runtime.stop)
            raise
        return client

    async def connect(self) -> Self:
        """Open the session now rather than on the first call."""
        if self._ws is None:
            await self._open()
        return self

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- plumbing ------------------------------------------------------------------------

    async def _open(self) -> None:
        if self._launched is not None and not self._launched.alive:
            from .launch import stopped_error

            raise stopped_error(self)
        opts = self.options
        if needs_verification(self, opts):
            await self._verify_server()
        try:
            ws = await connect(
                opts.ws_url,
                subprotocols=opts.subprotocols,  # type: ignore[arg-type]
                additional_headers=opts.headers,
                open_timeout=opts.connect_timeout_s,
                max_size=opts.max_message_bytes,
                compression=None,
                proxy=None,
            )
        except Exception as exc:
            raise connect_error(opts.ws_url, exc) from None
        self._ws = ws
        self._core = ClientCore(extensions=ws.subprotocol is not None)
        self._lost = None

    async def _verify_server(self) -> None:
        """See :meth:`EnvClient._verify_server <openenv.client.sync.EnvClient._verify_server>`."""
        import httpx

        opts = self.options
        try:
            async with httpx.AsyncClient(
                headers=opts.headers, timeout=opts.connect_timeout_s, trust_env=False
            ) as http:
                reply = await http.get(http_url(opts.ws_url, "schema"))
                if reply.status_code != 200:
                    return
                problem = schema_mismatch(self, opts, reply.json())
                if problem is None:
                    return
                metadata = await http.get(http_url(opts.ws_url, "metadata"))
                name = served_name(metadata.json() if metadata.status_code == 200 else None)
        except (httpx.HTTPError, ValueError):
            return
        raise WrongEnvironmentError(problem.replace("{served}", name))

    def _drop(self, reason: str) -> None:
        ws, self._ws = self._ws, None
        self._lost = reason
        if ws is not None:
            # Don't wait out the close handshake; hold the task so it is not collected.
            task = asyncio.ensure_future(ws.close())
            _closing.add(task)
            task.add_done_callback(_closing.discard)

    async def _call(
        self,
        kind: str,
        data: Any = None,
        timeout_s: float | None = None,
        new_session_ok: bool = False,
    ) -> dict[str, Any]:
        async with self._lock:
            if self._ws is None:
                if self._lost is not None and not new_session_ok:
                    raise session_lost(self._lost)
                await self._open()
            ws, core = self._ws, self._core
            assert ws is not None and core is not None
            message, request_id = core.request(kind, data, timeout_s)
            wait = self.options.wait_s(timeout_s)
            try:
                async with self._timeout.at(asyncio.get_running_loop().time() + wait):
                    await _send(ws, message)
                    while True:
                        reply = core.match(
                            await ws.recv(decode=False), request_id, REPLY_TYPES[kind]
                        )
                        if reply is not None:
                            return reply
            except BaseException as exc:
                raise self._failure(exc, core, kind, wait, request_id) from None

    async def _send_step(
        self, payload: dict[str, Any], timeout_s: float | None = None
    ) -> _SentStep:
        """The first half of :meth:`step` (``payload`` is ``_step_payload(action)``): the
        step is sent, its reply not yet read.

        For a caller with many sessions in flight (the pool's lockstep batch): it sends
        every step, then reads every reply with :meth:`_receive_step`, with no task per
        session. The session is held until ``_receive_step`` (which must follow).
        """
        await self._lock.acquire()
        try:
            if self._ws is None:
                if self._lost is not None:
                    raise session_lost(self._lost)
                await self._open()
            ws, core = self._ws, self._core
            assert ws is not None and core is not None
            message, request_id = core.request("step", payload, timeout_s)
            wait = self.options.wait_s(timeout_s)
            sent = _SentStep(ws, core, request_id, wait, asyncio.get_running_loop().time() + wait)
            try:
                async with self._timeout.at(sent.deadline):
                    await _send(ws, message)
            except BaseException as exc:
                raise self._failure(exc, core, "step", wait, request_id) from None
        except BaseException:
            self._lock.release()
            raise
        return sent

    async def _receive_step(self, sent: _SentStep) -> StepResult[ObsT]:
        """The second half of :meth:`step`: its reply, read until ``sent``'s deadline."""
        try:
            async with self._timeout.at(sent.deadline):
                while True:
                    reply = sent.core.match(
                        await sent.ws.recv(decode=False), sent.request_id, STEP_REPLY
                    )
                    if reply is not None:
                        return self._parse_result(reply)
        except BaseException as exc:
            raise self._failure(exc, sent.core, "step", sent.wait, sent.request_id) from None
        finally:
            self._lock.release()

    def _abandon_step(self, sent: _SentStep) -> None:
        """A sent step whose reply will not be read (the caller was cancelled): the
        connection goes (a late reply must not answer the next request) and the session
        is released."""
        if self._ws is sent.ws:
            self._drop("step interrupted")
        self._lock.release()

    def _failure(
        self, exc: BaseException, core: ClientCore, kind: str, wait: float, request_id: Any
    ) -> BaseException:
        """What a request that raised ``exc`` raises (``exc`` itself, or its typed error);
        the connection is dropped where the core says so."""
        drop, error = core.failed(exc, kind, wait, request_id)
        if drop is not None:
            self._drop(drop)
        return exc if error is None else error
