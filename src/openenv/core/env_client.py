"""OpenEnv 0.10's ``EnvClient``, on our async client: awaited in async code, blocking in sync.

A client written the reference's way works unchanged::

    from openenv.core import EnvClient

    class MyEnv(EnvClient[MyAction, MyObservation, State]):
        def _step_payload(self, action): return {"message": action.message}
        def _parse_result(self, payload): ...      # -> StepResult
        def _parse_state(self, payload): ...       # -> State

    async with MyEnv(base_url="http://localhost:8000") as env:   # async code
        result = await env.reset()
    with MyEnv(base_url="http://localhost:8000").sync() as env:  # sync code
        result = env.step(MyAction(message="hi"))

It *is* an :class:`~openenv.AsyncEnvClient` (same core, same frames, same errors), with
the reference's constructor and its dispatch: ``reset``/``step``/``state``/``close``
return an awaitable when called on a running event loop and a result otherwise. The
blocking side is :class:`~openenv.core.sync_client.SyncEnvClient`, our sync client
calling this client's hooks (no background event loop, unlike the reference). One
client is used in one mode: mixing them would mean two sessions, so it is refused as
the reference refuses it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..client.aio import AsyncEnvClient
from ..client.launch import own
from ..errors import ConfigError
from ..runtime.base import Runtime

if TYPE_CHECKING:
    from .sync_client import SyncEnvClient

ActT = TypeVar("ActT")
ObsT = TypeVar("ObsT")
StateT = TypeVar("StateT")
ClientT = TypeVar("ClientT", bound="EnvClient[Any, Any, Any]")

MIXED_MODES = (
    "EnvClient is already being used in {used} mode. "
    "Create a separate client instance when mixing sync and async code."
)


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class EnvClient(AsyncEnvClient[ActT, ObsT, StateT], Generic[ActT, ObsT, StateT]):
    """OpenEnv 0.10's client base; see the module docstring.

    ``websocket_ping_interval_s``/``websocket_ping_timeout_s`` are accepted for the
    reference's signature; the connection keeps the ``websockets`` defaults (20 s,
    the same values). ``provider`` (a reference container provider) is refused: use
    :meth:`from_docker_image` or :meth:`from_env`. ``token`` (ours) defaults to
    ``$OPENENV_TOKEN``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        connect_timeout_s: float = 10.0,
        message_timeout_s: float = 60.0,
        max_message_size_mb: float = 100.0,
        websocket_ping_interval_s: float | None = 20.0,
        websocket_ping_timeout_s: float | None = 20.0,
        provider: Any = None,
        mode: str | None = None,
        headers: dict[str, str] | None = None,
        *,
        token: str | None = None,
    ) -> None:
        if base_url is None:
            raise ConfigError(
                f"{type(self).__name__} needs base_url=..., or start a server with "
                f"{type(self).__name__}.from_env(NAME) or .from_docker_image(IMAGE)"
            )
        if provider is not None:
            raise ConfigError(
                "provider= is the reference's container provider; here use "
                f"{type(self).__name__}.from_docker_image(IMAGE) or .from_env(NAME)"
            )
        if mode not in (None, "simulation"):
            raise ConfigError(
                f"mode={mode!r}: only the simulation mode (reset/step over the WebSocket) "
                "is served here; call MCP tools with call_tool()"
            )
        super().__init__(
            base_url,
            token=token,
            connect_timeout_s=connect_timeout_s,
            message_timeout_s=message_timeout_s,
            max_message_bytes=int(max_message_size_mb * 1024 * 1024),
            headers=headers,
        )
        self._mode: str | None = None
        self._sync_client: SyncEnvClient[ActT, ObsT, StateT] | None = None

    @property
    def base_url(self) -> str:
        return self.options.base_url

    # -- the reference's dispatch: awaitable in async code, a result in sync code -------

    def _claim(self, mode: str) -> None:
        if self._mode is None:
            self._mode = mode
        elif self._mode != mode:
            raise RuntimeError(MIXED_MODES.format(used=self._mode))

    def _dispatch(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if _in_event_loop():
            self._claim("async")
            return getattr(AsyncEnvClient, name)(self, *args, **kwargs)
        return getattr(self.sync(), name)(*args, **kwargs)

    def reset(self, **kwargs: Any) -> Any:  # type: ignore[override]
        """Start an episode: ``await env.reset(...)`` in async code, ``env.reset(...)`` else."""
        return self._dispatch("reset", **kwargs)

    def step(self, action: ActT, **kwargs: Any) -> Any:  # type: ignore[override]
        """Apply ``action`` (``timeout_s=`` is ours; other keywords are ignored, as in 0.10)."""
        return self._dispatch("step", action, timeout_s=kwargs.get("timeout_s"))

    def state(self) -> Any:  # type: ignore[override]
        """The episode's state, awaited or not (see :meth:`reset`)."""
        return self._dispatch("state")

    def connect(self) -> Any:  # type: ignore[override]
        """Open the session now; returns the client (awaited in async code)."""
        if _in_event_loop():
            self._claim("async")
            return AsyncEnvClient.connect(self)
        self.sync().connect()
        return self

    def disconnect(self) -> Any:
        """End the session, keeping any server this client started (``end_session``)."""
        return self._dispatch("end_session")

    def close(self) -> Any:  # type: ignore[override]
        """End the session and stop any server this client started (awaited in async code)."""
        blocking = self._sync_client
        if _in_event_loop():
            if blocking is not None:  # its socket is a blocking one: close it off the loop
                return asyncio.to_thread(blocking.close)
            return AsyncEnvClient.close(self)
        if blocking is not None:
            blocking.close()
        elif self._launched is not None:  # opened by await, closed after its loop ended
            self._launched()
        return None

    def __enter__(self) -> EnvClient[ActT, ObsT, StateT]:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def sync(self) -> SyncEnvClient[ActT, ObsT, StateT]:
        """The blocking view of this client (one per client; it holds the session)."""
        from .sync_client import SyncEnvClient

        self._claim("sync")
        if self._sync_client is None:
            self._sync_client = SyncEnvClient(self)
        return self._sync_client

    async def new_session(self) -> EnvClient[ActT, ObsT, StateT]:
        """Another connected client of the same server (its own session)."""
        return await self._sibling().connect()

    def _sibling(self) -> EnvClient[ActT, ObsT, StateT]:
        options = self.options
        return type(self)(
            options.base_url,
            connect_timeout_s=options.connect_timeout_s,
            message_timeout_s=options.message_timeout_s,
            max_message_size_mb=options.max_message_bytes / (1024 * 1024),
            headers=options.headers,
        )

    # -- launchers, the reference's way: ``await`` them, or call ``.sync()`` ----------------

    @classmethod
    def from_docker_image(  # type: ignore[override]
        cls: type[ClientT], image: str, provider: Any = None, **kwargs: Any
    ) -> Bootstrap[ClientT]:
        """Run ``image`` in a container (ours: :meth:`AsyncEnvClient.from_docker_image`).

        ``env_vars=``, ``port=`` and ``start_timeout_s=`` are taken as in ours::

            env = await MyEnv.from_docker_image("my-env:latest")
            env = MyEnv.from_docker_image("my-env:latest").sync()
        """
        if provider is not None:
            raise ConfigError("provider= is not used here: containers run through our engine")
        from ..client.launch import container_runtime

        def runtime() -> Runtime:
            return container_runtime(
                image,
                env_vars=kwargs.pop("env_vars", None),
                port=kwargs.pop("port", None),
                start_timeout_s=kwargs.pop("start_timeout_s", 60.0),
                options=kwargs,
            )

        return Bootstrap(cls, runtime, kwargs)

    @classmethod
    def from_env(  # type: ignore[override]
        cls: type[ClientT],
        repo_id: str | Path,
        *,
        use_docker: bool = True,
        provider: Any = None,
        **provider_kwargs: Any,
    ) -> Bootstrap[ClientT]:
        """A server for ``repo_id``: an installed environment name or a folder here (served
        by ``openenv serve``), else a Hugging Face Space id (``owner/name``, or its URL)::

            env = await MyEnv.from_env("echo_env")
            env = MyEnv.from_env("team/my-env", use_docker=False).sync()

        A Space runs from its image (``use_docker=True``: ``registry.hf.space/OWNER-NAME``,
        :func:`~openenv.deploy.registry.space_image`; ``tag=`` as in the reference,
        ``registry=`` ours), or its package is downloaded and served here
        (``use_docker=False``: :func:`~openenv.core.hub.space_package`; ``revision=``
        picks a commit, ``project_path=FOLDER`` serves a checkout instead, as in the
        reference). Either way ``env_vars=``, ``port=`` and ``start_timeout_s=`` (the
        reference's ``context_timeout_s=``) apply; ``isolation=`` to a local server,
        the container limits to a container. The other keywords go to the client.
        Nothing starts until the handle is awaited or ``.sync()``-ed; closing the
        client stops the server.
        """
        if provider is not None:
            raise ConfigError("provider= is not used here: from_env starts our own server")
        from ..client.launch import container_runtime, local_runtime
        from .hub import hub_repo_id, space_package

        options = dict(provider_kwargs)
        start_timeout_s = options.pop("start_timeout_s", None)
        context_timeout_s = options.pop("context_timeout_s", None)
        start_timeout_s = start_timeout_s or context_timeout_s or 60.0
        env_vars = options.pop("env_vars", None)
        port = options.pop("port", None)
        workers = options.pop("workers", 1)
        if workers != 1:
            raise ConfigError(
                f"workers={workers!r}: one server process serves every session here "
                "(set its session limit with openenv.yaml or --max-sessions)"
            )
        repo = hub_repo_id(repo_id)
        if repo is not None and use_docker:
            from ..deploy.registry import space_image
            from ..runtime.container import ContainerLimits

            if options.pop("isolation", None) is not None:
                raise ConfigError(
                    "isolation= is for a server run here (use_docker=False); "
                    "a Space's image runs in a locked-down container"
                )
            image = space_image(repo, options.pop("registry", None), options.pop("tag", None))
            limits = {k: options.pop(k) for k in list(options) if k in ContainerLimits.model_fields}

            def runtime() -> Runtime:
                return container_runtime(
                    image,
                    env_vars=env_vars,
                    port=port,
                    start_timeout_s=start_timeout_s,
                    options=limits,
                )

            return Bootstrap(cls, runtime, options)

        isolation = options.pop("isolation", None)
        project_path = options.pop("project_path", None)
        revision = options.pop("revision", None)
        if project_path is not None and str(project_path).startswith("git+"):
            raise ConfigError(
                f"project_path={project_path!r}: a git URL is not cloned here; "
                "pass a folder (a checkout), or leave it out to download the Space"
            )

        def local() -> Runtime:
            target: str | Path = repo_id
            if project_path is not None:
                target = Path(project_path)
            elif repo is not None:
                target = space_package(repo, revision=revision)
            return local_runtime(
                target,
                isolation=isolation,
                start_timeout_s=start_timeout_s,
                env_vars=env_vars,
                port=port,
            )

        return Bootstrap(cls, local, options)


class Bootstrap(Generic[ClientT]):
    """A client still to be started: ``await`` it in async code, ``.sync()`` in sync code.

    Resolved once (a second ``await``/``.sync()`` would start a second server)."""

    def __init__(
        self, cls: type[ClientT], runtime: Callable[[], Runtime], options: dict[str, Any]
    ) -> None:
        self._cls = cls
        self._runtime = runtime
        self._options = options
        self._used = False

    def _take(self) -> Runtime:
        if self._used:
            raise RuntimeError(
                "This bootstrap handle has already been resolved; call the factory again "
                "to start a new environment."
            )
        self._used = True
        return self._runtime()

    def _client(self, runtime: Runtime, base_url: str) -> ClientT:
        headers = dict(self._options.pop("headers", None) or {})
        if runtime.token:
            headers.setdefault("Authorization", f"Bearer {runtime.token}")
        client = self._cls(base_url=base_url, headers=headers, **self._options)
        own(client, runtime)
        return client

    def start(self) -> ClientT:
        """Start the server now and return the client, not yet connected, in neither mode
        (``AutoEnv.from_env`` returns this)."""
        runtime = self._take()
        try:
            return self._client(runtime, runtime.start())
        except BaseException:
            runtime.stop()
            raise

    def __await__(self) -> Generator[Any, None, ClientT]:
        return self._start_async().__await__()

    async def _start_async(self) -> ClientT:
        runtime = await asyncio.to_thread(self._take)
        try:
            base_url = await asyncio.to_thread(runtime.start)
            client = self._client(runtime, base_url)
            await client.connect()
        except BaseException:
            await asyncio.shield(asyncio.ensure_future(asyncio.to_thread(runtime.stop)))
            raise
        return client

    def sync(self) -> SyncEnvClient[Any, Any, Any]:
        runtime = self._take()
        try:
            client = self._client(runtime, runtime.start())
            blocking = client.sync()
            blocking.connect()
        except BaseException:
            runtime.stop()
            raise
        return blocking


__all__ = ["Bootstrap", "EnvClient"]
