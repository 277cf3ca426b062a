"""Echo's action and observation."""

from __future__ import annotations

from pydantic import Field

from openenv import Action, Observation


class EchoAction(Action):
    """A message to echo back."""

    message: str = Field(description="The text to echo.", max_length=1_000_000)


class EchoObservation(Observation):
    """The message as the environment heard it."""

    echoed_message: str = Field(default="", description="The message, echoed.")
    message_length: int = Field(default=0, ge=0, description="Its length in characters.")
