"""Clients of atari_env.

``step`` takes an :class:`AtariAction` or a plain int; ``decode(observation)`` turns
``observation.obs`` (PNG, raw array or RAM list) into a ``uint8`` numpy array::

    with AtariEnv(base_url="http://localhost:8000") as env:
        result = env.reset(game="Breakout", seed=0)
        print(env.action_meanings)                  # ['NOOP', 'FIRE', 'RIGHT', 'LEFT']
        result = env.step(1)                        # FIRE
        screen = env.decode(result.observation)     # (210, 160, 3) uint8
"""

from __future__ import annotations

from typing import Any

from openenv import AsyncEnvClient, EnvClient, StepResult

from .models import AtariAction, AtariObservation, AtariState


class _AtariMixin:
    _spaces: tuple[Any, Any] | None = None
    _space_descriptions: tuple[dict[str, Any], dict[str, Any]] | None = None
    action_meanings: list[str] = []
    """The meaning of each action index (after a reset)."""

    def _remember(self, result: StepResult[AtariObservation]) -> StepResult[AtariObservation]:
        obs = result.observation
        if obs.observation_space is not None and obs.action_space is not None:
            self._space_descriptions = (obs.observation_space, obs.action_space)
            self._spaces = None
        if obs.action_meanings is not None:
            self.action_meanings = list(obs.action_meanings)
        return result

    def _gym_spaces(self) -> tuple[Any, Any]:
        if self._space_descriptions is None:
            raise RuntimeError("no spaces yet: call reset() first")
        if self._spaces is None:
            from openenv.integrations.gym_spaces import space_from_description

            self._spaces = (
                space_from_description(self._space_descriptions[0]),
                space_from_description(self._space_descriptions[1]),
            )
        return self._spaces

    @property
    def observation_space(self) -> Any:
        """The ``gymnasium.spaces.Box`` of the observations (after a reset)."""
        return self._gym_spaces()[0]

    @property
    def action_space(self) -> Any:
        """The ``gymnasium.spaces.Discrete`` of the actions (after a reset)."""
        return self._gym_spaces()[1]

    def decode(self, observation: AtariObservation) -> Any:
        """``observation.obs`` as a ``uint8`` numpy array of the observation space's shape."""
        from openenv.integrations.gym_spaces import decode_value

        return decode_value(self.observation_space, observation.obs)

    def _step_payload(self, action: Any) -> dict[str, Any]:
        if isinstance(action, AtariAction):
            return action.model_dump(mode="json")
        if isinstance(action, dict):
            return action
        return {"action": int(action)}


class AtariEnv(_AtariMixin, EnvClient[AtariAction, AtariObservation, AtariState]):
    """Sync client: ``AtariEnv(base_url="http://localhost:8000").reset(game="Pong")``."""

    def reset(self, **options: Any) -> StepResult[AtariObservation]:
        """Start a game; see atari_env's README for the options (``game``, ``seed``...)."""
        return self._remember(super().reset(**options))

    def spaces(self, **options: Any) -> dict[str, Any]:
        """The ``spaces`` tool: descriptions of both spaces and the action meanings."""
        return self.call_tool("spaces", **options)  # type: ignore[no-any-return]


class AsyncAtariEnv(_AtariMixin, AsyncEnvClient[AtariAction, AtariObservation, AtariState]):
    """Async client: ``await AsyncAtariEnv(base_url=...).reset(game="Pong")``."""

    async def reset(self, **options: Any) -> StepResult[AtariObservation]:
        """Start a game; see atari_env's README for the options (``game``, ``seed``...)."""
        return self._remember(await super().reset(**options))

    async def spaces(self, **options: Any) -> dict[str, Any]:
        """The ``spaces`` tool: descriptions of both spaces and the action meanings."""
        return await self.call_tool("spaces", **options)  # type: ignore[no-any-return]
