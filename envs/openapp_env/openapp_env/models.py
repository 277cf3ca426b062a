"""OpenApp's action, observation and state.

An action is either structured — ``OpenAppAction(action_type="click", bid="add-event")`` —
or a BrowserGym action string — ``OpenAppAction(action="click('add-event')")``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from openenv import Action, Observation, State

ActionType = Literal[
    "goto", "click", "fill", "select_option", "scroll", "send_keys", "hover", "go_back", "noop"
]


class OpenAppAction(Action):
    """One browser action on the apps.

    ======================  ===================================================
    ``action_type``         what it needs
    ======================  ===================================================
    ``goto``                ``url``: a path (``/calendar``) or an app URL
    ``click`` / ``hover``   ``bid``
    ``fill``                ``bid``, ``text``
    ``select_option``       ``bid``, ``text`` (the option's value or label)
    ``scroll``              ``delta_x`` / ``delta_y`` pixels (default: down 300)
    ``send_keys``           ``text`` typed, or ``key`` pressed (``Enter``,
                            ``Control+A``), into ``bid`` or the focused element
    ``go_back`` / ``noop``  nothing
    ======================  ===================================================

    ``action`` takes a BrowserGym string instead: ``click('12')``,
    ``fill('title', 'Meeting')``, ``press('search', 'Enter')``, ``goto('/shop')``,
    ``scroll(0, 300)``, ``keyboard_type('hi')``, ``go_back()``, ``noop()`` …
    """

    action_type: ActionType | None = Field(None, description="The action; or use `action`.")
    bid: str | None = Field(None, max_length=200, description="The target element's bid.")
    text: str | None = Field(None, max_length=100_000, description="Text to fill, type or select.")
    url: str | None = Field(None, max_length=4096, description="Where `goto` goes.")
    key: str | None = Field(None, max_length=100, description="A key for `send_keys`: Enter, Tab.")
    delta_x: int = Field(0, ge=-100_000, le=100_000)
    delta_y: int = Field(300, ge=-100_000, le=100_000)
    action: str | None = Field(
        None, max_length=100_000, description="A BrowserGym action string, e.g. click('12')."
    )

    @model_validator(mode="after")
    def _one_way(self) -> OpenAppAction:
        if (self.action_type is None) == (self.action is None):
            raise ValueError("give exactly one of action_type and action")
        return self


class OpenAppObservation(Observation):
    """The page after the action."""

    url: str = Field("", description="The active page's URL.")
    goal: str = Field("", description="The task's instruction (empty in free mode).")
    axtree_txt: str = Field("", description="Accessibility tree, one `[bid] role 'name'` a line.")
    html: str = Field("", description="The page's HTML, pruned: no scripts, styles or noise.")
    screenshot: str | None = Field(None, description="Base64 PNG of the viewport (None if off).")
    last_action: str = Field("", description="The action as it was understood.")
    last_action_error: str = Field("", description="Why the last action failed ('' if it did not).")
    dialogs: list[str] = Field(
        default_factory=list, description="JavaScript dialogs the action raised (all accepted)."
    )
    open_pages_urls: list[str] = Field(default_factory=list, description="URLs of the open tabs.")
    active_page_index: int = 0
    task_id: str | None = None


class OpenAppState(State):
    """Episode bookkeeping."""

    task_id: str | None = None
    url: str = ""
    solved: bool = False
