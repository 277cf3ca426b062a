"""The typed vocabulary, and how it is put on and taken off the wire."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

import openenv
from openenv import Action, EnvironmentMetadata, Observation, State, StepResult
from openenv.protocol import (
    ErrorCode,
    JsonRpcCode,
    ProtocolError,
    decode_frame,
    decode_message,
    encode_error,
    encode_frame,
    encode_observation,
    observation_data,
    parse_result,
)


class Move(Action):
    direction: str


class Grid(Observation):
    position: int = 0
    cells: list[int] = []


def test_importable_from_openenv():
    for name in ("Action", "Observation", "State", "StepResult", "EnvironmentMetadata"):
        assert getattr(openenv, name) is globals()[name]


def test_action_refuses_unknown_fields():
    assert Move(direction="left").metadata == {}
    with pytest.raises(ValidationError) as refused:
        Move(direction="left", speed=3)
    assert refused.value.errors()[0]["type"] == "extra_forbidden"
    with pytest.raises(ValidationError):
        Move()
    move = Move(direction="left")
    with pytest.raises(ValidationError):
        move.direction = 5  # validated on assignment too


def test_metadata_is_not_shared_between_instances():
    a, b = Move(direction="l"), Move(direction="r")
    a.metadata["x"] = 1
    assert b.metadata == {}


def test_observation_defaults_and_rewards():
    obs = Grid(position=3)
    assert (obs.done, obs.reward, obs.metadata) == (False, None, {})
    for reward in (1, 0.5, -2.0, True, None):
        assert Grid(reward=reward).reward == reward
    with pytest.raises(ValidationError):
        Grid(reward="high")
    with pytest.raises(ValidationError):
        Grid(unknown=1)
    obs.reward = 0.25
    assert obs.reward == 0.25


def test_state_allows_extra_fields():
    state = State(episode_id="e", step_count=2, task="sort")
    assert state.model_dump() == {"episode_id": "e", "step_count": 2, "task": "sort"}
    assert State().model_dump() == {"episode_id": None, "step_count": 0}
    with pytest.raises(ValidationError):
        State(step_count=-1)


def test_step_result():
    result = StepResult[Grid](observation=Grid(position=1), reward=0.5, done=True)
    assert result.observation.position == 1
    assert (result.reward, result.done, result.metadata) == (0.5, True, {})
    assert StepResult(observation={"a": 1}).reward is None


def test_environment_metadata():
    meta = EnvironmentMetadata(name="x")
    assert meta.model_dump() == {
        "name": "x",
        "description": "",
        "readme_content": None,
        "version": None,
        "author": None,
        "documentation_url": None,
    }
    with pytest.raises(ValidationError):
        EnvironmentMetadata(name="x", homepage="y")


# -- encoding --------------------------------------------------------------------------


def test_observation_data_puts_reward_done_beside_and_metadata_in_both():
    # metadata: inside always, beside when non-empty, as OpenEnv 0.10 (decision 0007).
    obs = Grid(position=2, cells=[1, 2], reward=1.5, done=True, metadata={"k": "v"})
    assert observation_data(obs) == {
        "observation": {"position": 2, "cells": [1, 2], "metadata": {"k": "v"}},
        "reward": 1.5,
        "done": True,
        "metadata": {"k": "v"},
    }
    assert observation_data(Grid()) == {
        "observation": {"position": 0, "cells": [], "metadata": {}},
        "reward": None,
        "done": False,
    }


@pytest.mark.parametrize(
    ("reward", "wire"), [(None, None), (1, 1), (0.5, 0.5), (True, 1.0), (False, 0.0), (-3, -3)]
)
def test_rewards_on_the_wire_are_numbers_or_null(reward, wire):
    frame = orjson.loads(encode_observation(Grid(reward=reward)))
    assert frame["data"]["reward"] == wire
    assert type(frame["data"]["reward"]) is type(wire)
    assert observation_data(Grid(reward=reward))["reward"] == wire


@pytest.mark.parametrize(
    "obs",
    [
        Grid(),
        Grid(position=5, reward=0.1, done=True),
        Grid(cells=[1, 2, 3], metadata={"nested": {"a": [1, None, "x"]}}),
        Grid(reward=True),
    ],
)
@pytest.mark.parametrize("request_id", [None, 7, "abc"])
def test_encode_observation_matches_observation_data(obs, request_id):
    frame = orjson.loads(encode_observation(obs, request_id))
    expected: dict[str, Any] = {"type": "observation", "data": observation_data(obs)}
    if request_id is not None:
        expected["id"] = request_id
    assert frame == expected


def test_encode_frame_and_error():
    assert orjson.loads(encode_frame("state", {"step_count": 1}, 3)) == {
        "type": "state",
        "data": {"step_count": 1},
        "id": 3,
    }
    error = ProtocolError(ErrorCode.CAPACITY_REACHED, "full", active_sessions=2, max_sessions=2)
    assert orjson.loads(encode_error(error)) == {
        "type": "error",
        "data": {
            "message": "full",
            "code": "CAPACITY_REACHED",
            "active_sessions": 2,
            "max_sessions": 2,
        },
    }


def test_openenv_error_codes_are_unchanged():
    assert [c.value for c in ErrorCode][:7] == [
        "INVALID_JSON",
        "UNKNOWN_TYPE",
        "VALIDATION_ERROR",
        "EXECUTION_ERROR",
        "CAPACITY_REACHED",
        "FACTORY_ERROR",
        "SESSION_ERROR",
    ]
    assert [c.value for c in JsonRpcCode] == [-32700, -32600, -32601, -32602, -32603, -32000]
    assert JsonRpcCode.SERVER_ERROR == -32000  # OpenEnv's code when no session can be made


# -- decoding --------------------------------------------------------------------------


def test_decode_message():
    assert decode_message('{"type":"state"}') == {"type": "state"}
    assert decode_message(b'{"type":"state"}') == {"type": "state"}
    for raw in ("{", "[]", b"\xff", "1", ""):
        with pytest.raises(ProtocolError) as refused:
            decode_message(raw)
        assert refused.value.code is ErrorCode.INVALID_JSON


def test_decode_message_keeps_64_bit_integers_exact():
    message = decode_message(
        '{"a":18446744073709551615,"b":-9223372036854775808,"c":"' + "1" * 40 + '"}'
    )
    assert message == {"a": 2**64 - 1, "b": -(2**63), "c": "1" * 40}
    for number in ("18446744073709551616", "-9223372036854775809", "1" * 40):
        with pytest.raises(ProtocolError, match="does not fit in 64 bits"):
            decode_message('{"a":' + number + "}")


def test_decode_frame():
    assert decode_frame('{"type":"state","data":{}}')["type"] == "state"
    with pytest.raises(ValueError):
        decode_frame('{"data":{}}')
    with pytest.raises(ValueError):
        decode_frame("[1]")


def test_parse_result_typed_and_generic():
    data = {
        "observation": {"position": 4, "added_later": 1},
        "reward": 0.5,
        "done": True,
        "metadata": {"m": 1},
    }
    typed = parse_result(data, Grid)
    assert isinstance(typed.observation, Grid)
    assert typed.observation.position == 4  # unknown fields from a newer server ignored
    assert (typed.observation.reward, typed.observation.done) == (0.5, True)
    assert typed.observation.metadata == typed.metadata == {"m": 1}
    assert (typed.reward, typed.done) == (0.5, True)
    generic = parse_result(data, None)
    assert generic.observation == {"position": 4, "added_later": 1}


@pytest.mark.parametrize("beside", [True, False])
def test_parse_result_takes_metadata_out_of_the_observation(beside):
    # Servers (ours and OpenEnv 0.10) send metadata inside the observation, and
    # beside it when non-empty: it is never an observation field of its own.
    data = observation_data(Grid(position=3, metadata={"m": 1} if beside else {}))
    assert ("metadata" in data) is beside and "metadata" in data["observation"]
    generic = parse_result(data, None)
    assert generic.observation == {"position": 3, "cells": []}
    assert generic.metadata == ({"m": 1} if beside else {})
    typed = parse_result(data, Grid)
    assert typed.observation.metadata == typed.metadata == generic.metadata
    # Beside wins over inside.
    both = {"observation": {"metadata": {"inside": 1}}, "metadata": {"beside": 1}}
    assert parse_result(both, None).metadata == {"beside": 1}
    assert parse_result(both, None).observation == {}


def test_parse_result_of_older_servers():
    # Older servers nest metadata inside the observation and may omit reward/done.
    result = parse_result({"observation": {"position": 1, "metadata": {"old": True}}}, Grid)
    assert result.metadata == {"old": True}
    assert (result.reward, result.done) == (None, False)
    assert parse_result({}, Grid).observation == Grid()
