"""The echo environment: it echoes what the agent says, and pays per character.

Reward (a :class:`FunctionRubric` of :func:`length_reward`): ``0.1 * len(message)``
for each step; ``None`` after ``reset``. An episode ends after ``max_steps`` steps (a reset
option, default 10).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from openenv import Environment, FunctionRubric, State, tool

from ..models import EchoAction, EchoObservation


def length_reward(action: EchoAction, observation: EchoObservation) -> float:
    """0.1 per character of the message."""
    return len(action.message) / 10


class EchoEnvironment(Environment[EchoAction, EchoObservation, State]):
    """Echoes each message back; reward = 0.1 per character of the message."""

    def __init__(self) -> None:
        super().__init__()
        self.rubric = FunctionRubric(length_reward)

    runs_inline = True  # echoing never blocks: served on the event loop, no thread hop

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        max_steps: Annotated[int, Field(ge=1)] = 10,
        greeting: str = "Echo environment ready!",
    ) -> EchoObservation:
        self.max_steps = max_steps  # the base class ends the episode at this step
        return EchoObservation(echoed_message=greeting, message_length=len(greeting))

    def _step(self, action: EchoAction, timeout_s: float | None = None) -> EchoObservation:
        observation = EchoObservation(
            echoed_message=action.message, message_length=len(action.message)
        )
        return self.apply_rubric(action, observation)

    @tool
    def echo_message(self, message: str) -> str:
        """Echo a message back unchanged."""
        return message

    @tool
    def echo_with_length(self, message: str) -> dict[str, Any]:
        """Echo a message back together with its length."""
        return {"message": message, "length": len(message)}
