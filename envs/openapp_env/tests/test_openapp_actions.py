"""Actions: structured fields and BrowserGym strings become the same commands."""

from __future__ import annotations

import pytest
from openapp_env import OpenAppAction
from openapp_env.server.actions import Command, InvalidAction, from_action, parse
from pydantic import ValidationError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("click('12')", Command("click", bid="12")),
        ('click("add-event")', Command("click", bid="add-event")),
        ("fill('title', 'Meeting')", Command("fill", bid="title", text="Meeting")),
        ("fill('title', 'it\\'s')", Command("fill", bid="title", text="it's")),
        (
            "select_option('sort', 'price-asc')",
            Command("select_option", bid="sort", text="price-asc"),
        ),
        ("press('search', 'Enter')", Command("send_keys", bid="search", key="Enter")),
        ("keyboard_press('Tab')", Command("send_keys", key="Tab")),
        ("keyboard_type('hello')", Command("send_keys", text="hello")),
        ("goto('/calendar')", Command("goto", url="/calendar")),
        ("scroll(0, 500)", Command("scroll", delta_x=0, delta_y=500)),
        ("scroll(delta_x=10, delta_y=-20)", Command("scroll", delta_x=10, delta_y=-20)),
        ("hover('cart')", Command("hover", bid="cart")),
        ("go_back()", Command("go_back")),
        ("noop()", Command("noop")),
        ("noop(500)", Command("noop", wait_ms=500)),
        ("  click('3')  ", Command("click", bid="3")),
    ],
)
def test_browsergym_strings(text, expected):
    assert parse(text) == expected
    assert from_action(OpenAppAction(action=text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("click(", "not an action"),
        ("print('x')", "unknown action 'print'"),
        ("click(bid)", "must be literals"),
        ("click(__import__('os'))", "must be literals"),
        ("fill('title')", "fill needs text"),
        ("click('1', '2')", "takes 1 argument"),
        ("click(3)", "bid must be str"),
        ("click('1', force=True)", "no argument 'force'"),
        ("obj.click('1')", "not an action call"),
        ("1 + 1", "not an action call"),
    ],
)
def test_bad_strings_are_invalid_actions(text, message):
    with pytest.raises(InvalidAction, match=message):
        parse(text)


def test_structured_actions():
    assert from_action(OpenAppAction(action_type="goto", url="/shop")) == Command(
        "goto", url="/shop"
    )
    fill = OpenAppAction(action_type="fill", bid="title", text="Meeting")
    assert from_action(fill) == Command("fill", bid="title", text="Meeting")
    assert from_action(OpenAppAction(action_type="send_keys", key="Enter")).key == "Enter"
    with pytest.raises(InvalidAction, match="click needs bid"):
        from_action(OpenAppAction(action_type="click"))
    with pytest.raises(InvalidAction, match="send_keys needs text or key"):
        from_action(OpenAppAction(action_type="send_keys"))


def test_exactly_one_way_to_say_it():
    with pytest.raises(ValidationError, match="exactly one"):
        OpenAppAction()
    with pytest.raises(ValidationError, match="exactly one"):
        OpenAppAction(action_type="noop", action="noop()")
    with pytest.raises(ValidationError):
        OpenAppAction(action_type="teleport")


def test_describe_reads_like_browsergym():
    assert Command("fill", bid="title", text="Meeting").describe() == "fill('title', 'Meeting')"
    assert Command("goto", url="/a").describe() == "goto('/a')"
    assert Command("send_keys", bid="q", key="Enter").describe() == "send_keys('q', 'Enter')"
    assert Command("go_back").describe() == "go_back()"
