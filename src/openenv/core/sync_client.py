"""OpenEnv 0.10's ``SyncEnvClient``: the blocking view of an :class:`~openenv.core.EnvClient`.

It is our sync client (:class:`openenv.EnvClient`: its own blocking WebSocket, no
background event loop) whose hooks are the async client's, so a client written the
reference's way (``_step_payload``, ``_parse_result``, ``_parse_state``) parses the
same in both modes::

    with MyEnv(base_url="http://localhost:8000").sync() as env:
        result = env.reset()
        result = env.step(MyAction(message="hi"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..client.sync import EnvClient as _BlockingClient
from ..types import StepResult

if TYPE_CHECKING:
    from .env_client import EnvClient

ActT = TypeVar("ActT")
ObsT = TypeVar("ObsT")
StateT = TypeVar("StateT")


class SyncEnvClient(_BlockingClient[ActT, ObsT, StateT], Generic[ActT, ObsT, StateT]):
    """Blocking calls on a session of ``async_client``'s server, with its hooks.

    Made by ``async_client.sync()``; closing it also stops a server the async client
    started (``from_env``, ``from_docker_image``).
    """

    def __init__(self, async_client: EnvClient[ActT, ObsT, StateT]) -> None:
        options = async_client.options
        super().__init__(options.base_url, **options.as_kwargs())
        self._async_client = async_client
        # What the server's /schema is checked against: the async client's types.
        self.action_type = async_client.action_type
        self.observation_type = async_client.observation_type
        self.state_type = async_client.state_type

    @property
    def async_client(self) -> EnvClient[ActT, ObsT, StateT]:
        """The async client this wraps."""
        return self._async_client

    def _step_payload(self, action: Any) -> dict[str, Any]:
        return self._async_client._step_payload(action)

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[Any]:
        return self._async_client._parse_result(payload)

    def _parse_state(self, payload: dict[str, Any]) -> Any:
        return self._async_client._parse_state(payload)

    def step(self, action: ActT, timeout_s: float | None = None, **kwargs: Any) -> StepResult[ObsT]:
        """Apply ``action`` (other keywords are ignored, as in OpenEnv 0.10)."""
        return super().step(action, timeout_s=timeout_s)

    def disconnect(self) -> None:
        """End the session, keeping any server the async client started."""
        self.end_session()

    def close(self) -> None:
        """End the session and stop any server the async client started."""
        try:
            super().close()
        finally:
            launched = self._async_client._launched
            if launched is not None:
                launched()

    def new_session(self) -> SyncEnvClient[ActT, ObsT, StateT]:
        """Another connected client of the same server (its own session)."""
        return self._async_client._sibling().sync().connect()


__all__ = ["SyncEnvClient"]
