"""The echo environment: it echoes what the agent says, and pays per character.

Reward (a :class:`FunctionRubric` of :func:`length_reward`): ``0.1 * len(message)``
for each step; ``None`` after ``reset``. An episode ends after ``max_steps`` steps (a reset
option, default 10).
"""

from __future__ import annotations

from typing import Any

from openenv import Environment, EnvironmentMetadata, FunctionRubric, State, tool

from ..models import EchoAction, EchoObservation


def length_reward(action: EchoAction, observation: EchoObservation) -> float:
    """0.1 per character of the message."""
    return len(action.message) / 10


class EchoEnvironment(Environment[EchoAction, EchoObservation, State]):
    """Echoes each message back; reward = 0.1 per character of the message."""

    action_type = EchoAction
    observation_type = EchoObservation
    metadata = EnvironmentMetadata(
        name="echo_env",
        description="Echoes each message back; reward = 0.1 per character.",
        version="0.1.0",
        author="OpenEnv developers",
    )

    def __init__(self) -> None:
        super().__init__()
        self.rubric = FunctionRubric(length_reward)
        self.max_steps = 10

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        max_steps: int = 10,
        greeting: str = "Echo environment ready!",
    ) -> EchoObservation:
        if max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        self.begin_episode(seed, episode_id)
        self.max_steps = max_steps
        return EchoObservation(echoed_message=greeting, message_length=len(greeting))

    def step(self, action: EchoAction, timeout_s: float | None = None) -> EchoObservation:
        self.state.step_count += 1
        observation = EchoObservation(
            echoed_message=action.message,
            message_length=len(action.message),
            done=self.state.step_count >= self.max_steps,
        )
        return self.apply_rubric(action, observation)

    # Echo never blocks, so it runs on the server's event loop: no thread hop per call.
    async def reset_async(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        max_steps: int = 10,
        greeting: str = "Echo environment ready!",
    ) -> EchoObservation:
        return self.reset(seed, episode_id, max_steps, greeting)

    async def step_async(
        self, action: EchoAction, timeout_s: float | None = None
    ) -> EchoObservation:
        return self.step(action, timeout_s)

    @tool
    def echo_message(self, message: str) -> str:
        """Echo a message back unchanged."""
        return message

    @tool
    def echo_with_length(self, message: str) -> dict[str, Any]:
        """Echo a message back together with its length."""
        return {"message": message, "length": len(message)}
