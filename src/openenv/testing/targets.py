"""What the checker drives: an environment class in this process, or a server at a URL.

Both speak the same small interface in wire form (plain dicts, error codes), so
every check runs unchanged against either, and an environment must behave the
same way in-process and served:

* :class:`InProcess` calls an :class:`~openenv.Environment` subclass directly and
  maps exceptions to error codes with the server's own mapping;
* :class:`Remote` talks to a server with :class:`~openenv.AsyncGenericEnvClient`.

A refused call raises :class:`~openenv.errors.EnvServerError` with its error code
(``VALIDATION_ERROR``, ``NOT_RESET``, ``EPISODE_OVER``, ...), in-process as over the wire.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ValidationError

from ..client.generic import AsyncGenericEnvClient
from ..discovery import metadata_for
from ..environment import Environment
from ..errors import EnvServerError
from ..protocol import ErrorCode, observation_data
from ..server.failures import execution_error
from ..types import Observation


class Session(Protocol):
    """One session (one environment instance), in wire form."""

    async def reset(self, **options: Any) -> dict[str, Any]: ...
    async def step(self, action: dict[str, Any]) -> dict[str, Any]: ...
    async def state(self) -> dict[str, Any]: ...
    async def close(self) -> None: ...
    def end_at_next_step(self) -> bool:
        """Make the next step end the episode; ``False`` where that is not possible."""
        ...


class Target(Protocol):
    """Where sessions come from."""

    name: str
    schemas: dict[str, dict[str, Any]]
    """JSON schemas of ``action``, ``observation`` and ``state`` (as ``GET /schema``)."""
    reset_options: dict[str, Any] | None
    """JSON schema of the reset options, where known (in-process only)."""

    async def open(self) -> Session: ...
    async def aclose(self) -> None: ...


def _wire(observation: Any, method: str, env: object) -> dict[str, Any]:
    if not isinstance(observation, Observation):
        raise TypeError(
            f"{type(env).__name__}.{method}() returned {type(observation).__name__}, "
            "expected an Observation"
        )
    _round_trip(observation, method)
    return observation_data(observation)


def _round_trip(model: BaseModel, what: str) -> None:
    # What the wire carries must come back as the same value (a float that is not JSON,
    # a field that serialises lossily, a validator that rewrites its input).
    again = type(model).model_validate_json(model.model_dump_json())
    if again != model:
        raise ValueError(f"the {what} result does not survive a JSON round trip: {again!r}")


class InProcessSession:
    def __init__(self, env: Environment[Any, Any, Any], timeout_s: float) -> None:
        self.env = env
        self.timeout_s = timeout_s

    async def _call(self, call: Any, where: str) -> Any:
        try:
            return await asyncio.wait_for(call, self.timeout_s)
        except ValidationError as exc:
            raise EnvServerError(ErrorCode.VALIDATION_ERROR.value, str(exc)) from None
        except (asyncio.TimeoutError, TypeError):
            raise
        except Exception as exc:
            error = execution_error(exc, where)
            raise EnvServerError(error.code.value, error.message) from None

    async def reset(self, **options: Any) -> dict[str, Any]:
        observation = await self._call(self.env.reset_async(**options), "in reset")
        return _wire(observation, "reset", self.env)

    async def step(self, action: dict[str, Any]) -> dict[str, Any]:
        try:
            typed = type(self.env).action_type.model_validate(action)
        except ValidationError as exc:
            raise EnvServerError(ErrorCode.VALIDATION_ERROR.value, str(exc)) from None
        observation = await self._call(
            self.env.step_async(typed, timeout_s=self.timeout_s), "in step"
        )
        return _wire(observation, "step", self.env)

    async def state(self) -> dict[str, Any]:
        _round_trip(self.env.state, "state")
        return self.env.state.model_dump(mode="json")

    async def close(self) -> None:
        await self.env.close_async()

    def end_at_next_step(self) -> bool:
        self.env.max_steps = self.env.state.step_count + 1
        return True


class InProcess:
    """An environment class, instantiated once per session in this process."""

    def __init__(self, env_class: type[Environment[Any, Any, Any]], timeout_s: float) -> None:
        self.env_class = env_class
        self.timeout_s = timeout_s
        self.name = metadata_for(env_class).name  # as GET /metadata names it
        self.schemas = {
            "action": env_class.action_type.model_json_schema(),
            "observation": env_class.observation_type.model_json_schema(),
            "state": env_class.state_type.model_json_schema(),
        }
        self.reset_options = env_class.reset_options_model().model_json_schema()

    async def open(self) -> InProcessSession:
        return InProcessSession(self.env_class(), self.timeout_s)

    async def aclose(self) -> None:
        await self.env_class.close_shared()


class RemoteSession:
    def __init__(self, client: AsyncGenericEnvClient) -> None:
        self.client = client

    async def _call(self, call: Any) -> Any:
        return await call  # a refusal is already an EnvServerError, as in-process

    async def reset(self, **options: Any) -> dict[str, Any]:
        return _result_data(await self._call(self.client.reset(**options)))

    async def step(self, action: Any) -> dict[str, Any]:
        # Sent as given, bypassing the client's own checks: bad input must reach the server.
        data = await self._call(self.client._call("step", action))
        return _result_data(self.client._parse_result(data))

    async def state(self) -> dict[str, Any]:
        return dict(await self._call(self.client.state()))

    async def close(self) -> None:
        await self.client.close()

    def end_at_next_step(self) -> bool:
        return False


def _result_data(result: Any) -> dict[str, Any]:
    # Back to the wire's shape, so in-process and served results compare equal.
    observation = dict(result.observation)
    observation["metadata"] = result.metadata
    data: dict[str, Any] = {
        "observation": observation,
        "reward": result.reward,
        "done": result.done,
    }
    if result.metadata:
        data["metadata"] = result.metadata
    return data


class Remote:
    """A running server, one WebSocket session per :meth:`open`."""

    def __init__(self, base_url: str, timeout_s: float, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.token = token
        self.reset_options = None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with httpx.Client(timeout=timeout_s, headers=headers) as http:
            self.schemas = _get(http, f"{self.base_url}/schema")
            metadata = _get(http, f"{self.base_url}/metadata")
        self.name = str(metadata.get("name") or self.base_url)

    async def open(self) -> RemoteSession:
        options: dict[str, Any] = {"message_timeout_s": self.timeout_s}
        if self.token:
            options["token"] = self.token
        client = AsyncGenericEnvClient(base_url=self.base_url, **options)
        await client.connect()
        return RemoteSession(client)

    async def aclose(self) -> None:
        return None


def _get(http: httpx.Client, url: str) -> dict[str, Any]:
    response = http.get(url)
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError(f"{url} answered {type(body).__name__}, expected an object")
    return body
