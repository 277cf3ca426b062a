"""Clients of gym_env: typed sessions that also speak Gymnasium values.

``step`` takes a :class:`GymAction` or a plain Gymnasium action (an int, a numpy
array, a dict for a ``Dict`` space...), encoded for the action space the last
``reset`` described. ``decode(observation)`` gives the observation back as
Gymnasium values (numpy arrays of the space's dtype)::

    with GymEnv(base_url="http://localhost:8000") as env:
        result = env.reset(env_id="CartPole-v1", seed=42)
        obs = env.decode(result.observation)          # float32 array, shape (4,)
        result = env.step(1)                          # or env.step(GymAction(action=1))
        print(result.reward, result.observation.terminated)

For a full ``gymnasium.Env`` use :func:`openenv.integrations.gymnasium.to_gymnasium`.
"""

from __future__ import annotations

from typing import Any

from openenv import AsyncEnvClient, EnvClient, StepResult

from .models import GymAction, GymObservation, GymState


class _SpacesMixin:
    """What both clients share: the spaces of the last reset, and value codecs."""

    _spaces: dict[str, Any] | None = None
    _built: tuple[Any, Any] | None = None

    def _remember(self, result: StepResult[GymObservation]) -> StepResult[GymObservation]:
        obs = result.observation
        if obs.observation_space is not None and obs.action_space is not None:
            self._spaces = {
                "observation_space": obs.observation_space,
                "action_space": obs.action_space,
            }
            self._built = None
        return result

    def _gym_spaces(self) -> tuple[Any, Any]:
        if self._spaces is None:
            raise RuntimeError("no spaces yet: call reset() first")
        if self._built is None:
            from openenv.integrations.gym_spaces import space_from_description

            self._built = (
                space_from_description(self._spaces["observation_space"]),
                space_from_description(self._spaces["action_space"]),
            )
        return self._built

    @property
    def observation_space(self) -> Any:
        """The ``gymnasium.spaces.Space`` of the observations (after a reset)."""
        return self._gym_spaces()[0]

    @property
    def action_space(self) -> Any:
        """The ``gymnasium.spaces.Space`` of the actions (after a reset)."""
        return self._gym_spaces()[1]

    def decode(self, observation: GymObservation) -> Any:
        """``observation.obs`` as a Gymnasium value (arrays of the space's dtype)."""
        from openenv.integrations.gym_spaces import decode_value

        return decode_value(self.observation_space, observation.obs)

    def _step_payload(self, action: Any) -> dict[str, Any]:
        if isinstance(action, GymAction):
            return action.model_dump(mode="json")
        from openenv.integrations.gym_spaces import encode_value

        return {"action": encode_value(self.action_space, action)}


class GymEnv(_SpacesMixin, EnvClient[GymAction, GymObservation, GymState]):
    """Sync client: ``GymEnv(base_url="http://localhost:8000").reset(env_id="CartPole-v1")``."""

    def reset(self, **options: Any) -> StepResult[GymObservation]:
        """Start an episode; see gym_env's README for the options (``env_id``, ``seed``...)."""
        return self._remember(super().reset(**options))

    def spaces(self, **options: Any) -> dict[str, Any]:
        """The ``spaces`` tool: descriptions of both spaces (of ``env_id`` if given)."""
        return self.call_tool("spaces", **options)  # type: ignore[no-any-return]


class AsyncGymEnv(_SpacesMixin, AsyncEnvClient[GymAction, GymObservation, GymState]):
    """Async client: ``await AsyncGymEnv(base_url=...).reset(env_id="CartPole-v1")``."""

    async def reset(self, **options: Any) -> StepResult[GymObservation]:
        """Start an episode; see gym_env's README for the options (``env_id``, ``seed``...)."""
        return self._remember(await super().reset(**options))

    async def spaces(self, **options: Any) -> dict[str, Any]:
        """The ``spaces`` tool: descriptions of both spaces (of ``env_id`` if given)."""
        return await self.call_tool("spaces", **options)  # type: ignore[no-any-return]
