"""OpenSpiel's action, observation and state.

The field names follow the public OpenEnv ``openspiel_env`` (``action_id``;
``info_state``, ``legal_actions``, ``game_phase``, ``current_player_id``,
``opponent_last_action``), so its client talks to our server; the extra fields
(action strings, a text rendering, the returns) are ours.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from openenv import Action, Observation, State


class OpenSpielAction(Action):
    """One move of the agent: an action id from ``legal_actions``, or its string.

    Example::

        OpenSpielAction(action_id=4)             # tic_tac_toe: the centre
        OpenSpielAction(action_str="Stand")      # blackjack, by name
    """

    action_id: int | None = Field(default=None, description="An id from legal_actions.")
    action_str: str | None = Field(
        default=None,
        max_length=1000,
        description="Alternatively, the action's string, one of legal_action_strings.",
    )
    game_name: str | None = Field(
        default=None,
        max_length=100,
        description="Ignored (the game is chosen at reset); accepted for the public client.",
    )
    game_params: dict[str, Any] | None = Field(
        default=None, description="Ignored, like game_name; accepted for the public client."
    )

    @model_validator(mode="after")
    def _one_of_id_or_string(self) -> OpenSpielAction:
        if (self.action_id is None) == (self.action_str is None):
            raise ValueError("give exactly one of action_id and action_str")
        return self


class OpenSpielObservation(Observation):
    """The game from the agent's seat, after its move and the opponents' replies."""

    info_state: list[float] = Field(
        default_factory=list,
        description="The agent's information-state tensor, flat; the observation tensor "
        "where the game has no information-state tensor (tic_tac_toe, catch, 2048).",
    )
    legal_actions: list[int] = Field(
        default_factory=list, description="Action ids the agent may play now (empty when done)."
    )
    legal_action_strings: list[str] = Field(
        default_factory=list, description="The same actions as strings, in the same order."
    )
    game_phase: str = Field(default="initial", description='"initial", "playing" or "terminal".')
    current_player_id: int = Field(
        default=0, description="Whose turn it is (the agent's, or -4 when the game is over)."
    )
    opponent_last_action: int | None = Field(
        default=None, description="The last action an opponent played, if any."
    )
    opponent_last_action_string: str | None = Field(
        default=None, description="That action as a string."
    )
    rendering: str = Field(
        default="", description="The game as text, as the agent may see it (no hidden cards)."
    )
    game_name: str = Field(default="", description="The game being played.")
    agent_player: int = Field(default=0, description="The agent's seat.")
    returns: list[float] = Field(
        default_factory=list, description="Every player's total return, when the game is over."
    )


class OpenSpielState(State):
    """Episode bookkeeping: the game, the seats and the opponent."""

    game_name: str = "catch"
    game_params: dict[str, Any] = Field(default_factory=dict)
    agent_player: int = 0
    opponent_policy: str = "random"
    num_players: int = 1
    agent_return: float = Field(default=0.0, description="The agent's return so far.")
