"""The say_word environment: the agent must say one word.

**Episode**: ``reset(target="hello")`` shows "Say the word: hello."; one ``step``
with the agent's message ends it. **Reward**: the fraction of the target's letters
found at their place in the message, ``+ 0.5`` when the message is exactly the
target: 0 for nothing right, 1.5 for the word alone. The target is a
reset option, so the reward cannot be had without saying it.
"""

from __future__ import annotations

from pydantic import Field

from openenv import Action, EnvClient, Environment, FunctionRubric, Observation, State


class SayAction(Action):
    """What the agent says."""

    message: str = Field(description="The word to say.", max_length=1000)


class SayObservation(Observation):
    """The task, and after the step what was heard."""

    prompt: str = Field("", description="What to do.")
    heard: str = Field("", description="The agent's message, stripped.")


def letters_in_place(target: str, message: str) -> float:
    """The fraction of ``target``'s letters at their place in ``message`` (stripped),
    plus 0.5 when ``message`` is exactly ``target``."""
    said = message.strip()
    hits = sum(a == b for a, b in zip(target, said, strict=False))
    return hits / len(target) + (0.5 if said == target else 0.0)


class SayWordEnvironment(Environment[SayAction, SayObservation, State]):
    """Say the target word; reward = the fraction of its letters in place (+0.5 exact)."""

    runs_inline = True

    def __init__(self) -> None:
        super().__init__()
        self.target = "hello"
        self.rubric = FunctionRubric(
            lambda action, observation: letters_in_place(self.target, action.message)
        )

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        target: str = "hello",
    ) -> SayObservation:
        self.target = target
        return SayObservation(prompt=f"Say the word: {target}.")

    def _step(self, action: SayAction, timeout_s: float | None = None) -> SayObservation:
        observation = SayObservation(heard=action.message.strip(), done=True)
        return self.apply_rubric(action, observation)


class SayWordClient(EnvClient[SayAction, SayObservation, State]):
    """Sync client of say_word."""
