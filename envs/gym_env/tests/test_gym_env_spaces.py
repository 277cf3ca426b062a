"""Spaces and values as JSON and back (openenv.integrations.gym_spaces), property style.

Every space type, random spaces nested at random, many samples each: a value that went
through JSON comes back equal, with the same types and dtypes, and inside the space.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from gymnasium import spaces

from openenv.integrations.gym_spaces import (
    UnsupportedSpace,
    check_action,
    decode_array,
    decode_png,
    decode_value,
    describe_space,
    encode_array,
    encode_png,
    encode_value,
    space_from_description,
    to_jsonable,
)

SAMPLES = 40


def wire(value):
    """Through JSON text, as on the wire."""
    return json.loads(json.dumps(value, allow_nan=False))


def same(a, b) -> bool:
    """Equal values with equal types; arrays bit-exact with equal dtype and shape."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


FLOATS = (np.float16, np.float32, np.float64)
INTS = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)


def random_leaf(rng: random.Random) -> spaces.Space:
    kind = rng.choice(
        ["Discrete", "Box", "BoxInt", "BoxInf", "MultiDiscrete", "MultiBinary", "Text"]
    )
    shape = tuple(rng.randint(1, 4) for _ in range(rng.randint(0, 3)))
    if kind == "Discrete":
        return spaces.Discrete(rng.randint(1, 50), start=rng.randint(-10, 10))
    if kind == "Box":
        dtype = rng.choice(FLOATS)
        low = np.array([rng.uniform(-100, 0) for _ in range(int(np.prod(shape)))]).reshape(shape)
        high = (low + rng.uniform(1, 50)).astype(dtype)
        return spaces.Box(low=low.astype(dtype), high=high, dtype=dtype)
    if kind == "BoxInt":
        dtype = rng.choice(INTS)
        low = rng.choice([0, -3]) if np.iinfo(dtype).min < 0 else 0
        return spaces.Box(low=low, high=rng.choice([7, 100]), shape=shape, dtype=dtype)
    if kind == "BoxInf":
        return spaces.Box(low=-np.inf, high=np.inf, shape=shape or (3,), dtype=rng.choice(FLOATS))
    if kind == "MultiDiscrete":
        nvec = np.array([rng.randint(1, 9) for _ in range(int(np.prod(shape or (2,))))])
        return spaces.MultiDiscrete(
            nvec.reshape(shape or (2,)), start=np.full(nvec.size, -1).reshape(shape or (2,))
        )
    if kind == "MultiBinary":
        return spaces.MultiBinary(list(shape) if shape else rng.randint(1, 9))
    return spaces.Text(rng.randint(1, 12), min_length=0, charset="abcé✓ 0")


def random_space(rng: random.Random, depth: int = 0) -> spaces.Space:
    if depth >= 3 or rng.random() < 0.5:
        return random_leaf(rng)
    children = [random_space(rng, depth + 1) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.5:
        return spaces.Tuple(children)
    return spaces.Dict({f"k{i}": child for i, child in enumerate(children)})


def check_round_trip(space: spaces.Space, samples: int = SAMPLES, **encoding) -> None:
    rebuilt = space_from_description(wire(describe_space(space)))
    assert rebuilt == space, (rebuilt, space)
    assert describe_space(rebuilt) == describe_space(space)
    space.seed(0)
    for _ in range(samples):
        value = space.sample()
        decoded = decode_value(rebuilt, wire(encode_value(space, value, **encoding)))
        assert rebuilt.contains(decoded)
        expected = decode_value(space, encode_value(space, value, arrays="base64"))
        assert same(decoded, expected), (value, decoded)


@pytest.mark.parametrize(
    "space",
    [
        spaces.Discrete(2),
        spaces.Discrete(7, start=-3),
        spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32),
        spaces.Box(
            low=np.array([-4.8, -np.inf, -0.42, -np.inf], np.float32),
            high=np.array([4.8, np.inf, 0.42, np.inf], np.float32),
            dtype=np.float32,
        ),  # CartPole's
        spaces.Box(0, 255, shape=(210, 160, 3), dtype=np.uint8),  # an Atari frame
        spaces.Box(-2.0, 2.0, shape=(), dtype=np.float64),
        spaces.MultiDiscrete([3, 4, 5]),
        spaces.MultiDiscrete([[2, 3], [4, 5]], start=[[1, 1], [-2, 0]]),
        spaces.MultiBinary(5),
        spaces.MultiBinary([2, 3]),
        spaces.Dict({"pos": spaces.Box(-1, 1, (2,)), "key": spaces.Discrete(3)}),
        spaces.Tuple((spaces.Discrete(32), spaces.Discrete(11), spaces.Discrete(2))),  # Blackjack
        spaces.Text(10, charset="ab"),
    ],
    ids=lambda s: type(s).__name__,
)
def test_every_space_type_round_trips(space):
    check_round_trip(space)
    check_round_trip(space, samples=5, arrays="base64")
    check_round_trip(space, samples=5, arrays="list")


def test_random_nested_spaces_round_trip():
    rng = random.Random(1234)
    for _ in range(150):
        check_round_trip(random_space(rng), samples=8)


def test_extreme_bounds_round_trip():
    for dtype in INTS:
        info = np.iinfo(dtype)
        space = spaces.Box(low=info.min, high=info.max, shape=(2, 2), dtype=dtype)
        assert space_from_description(wire(describe_space(space))) == space
    top = np.finfo(np.float32).max
    space = spaces.Box(low=np.array([-top, 0.0], np.float32), high=np.array([top, 1.0], np.float32))
    assert space_from_description(wire(describe_space(space))) == space


def test_large_bounds_and_arrays_travel_as_base64():
    space = spaces.Box(low=np.arange(2000.0), high=np.arange(2000.0) + 1, dtype=np.float64)
    description = describe_space(space)
    assert set(description["low"]) == {"dtype", "shape", "b64"}
    check_round_trip(space, samples=3)
    frame = spaces.Box(0, 255, (210, 160, 3), np.uint8).sample()
    encoded = encode_value(spaces.Box(0, 255, (210, 160, 3), np.uint8), frame)
    assert encoded["dtype"] == "uint8" and encoded["shape"] == [210, 160, 3]
    assert len(encoded["b64"]) == 4 * 210 * 160 * 3 // 3  # base64: 4 chars per 3 bytes
    small = encode_value(spaces.Box(-1, 1, (4,), np.float32), np.zeros(4, np.float32))
    assert small == [0.0, 0.0, 0.0, 0.0]


def test_floats_are_bit_exact_as_json_lists():
    rng = np.random.default_rng(0)
    for dtype in FLOATS:
        values = rng.standard_normal(200).astype(dtype) * 1e3
        space = spaces.Box(-np.inf, np.inf, (200,), dtype)
        listed = wire(encode_value(space, values, arrays="list"))
        assert isinstance(listed, list)
        assert decode_value(space, listed).tobytes() == values.tobytes()


def test_non_finite_values_travel():
    space = spaces.Box(-np.inf, np.inf, (3,), np.float32)
    values = np.array([np.nan, np.inf, -np.inf], np.float32)
    decoded = decode_value(space, wire(encode_value(space, values, arrays="list")))
    assert decoded.tobytes() == values.tobytes()
    assert wire(describe_space(space))["low"] == "-inf"


def test_png_frames_round_trip():
    rng = np.random.default_rng(1)
    for shape in [(210, 160, 3), (84, 84), (84, 84, 1), (5, 7, 4)]:
        frame = rng.integers(0, 256, shape, dtype=np.uint8)
        space = spaces.Box(0, 255, shape, np.uint8)
        decoded = decode_value(space, {"png": encode_png(frame)})
        assert decoded.shape == shape and decoded.tobytes() == frame.tobytes()
    assert decode_png(encode_png(np.zeros((2, 3, 3), np.uint8))).shape == (2, 3, 3)
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="PNG"):
        decode_png("aGVsbG8=")


def test_array_objects_are_checked():
    good = encode_array(np.arange(6, dtype=np.int16).reshape(2, 3))
    assert decode_array(good).tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="bytes"):
        decode_array({**good, "shape": [4, 3]})
    with pytest.raises(ValueError, match="dtype"):
        decode_array({**good, "dtype": "object"})
    with pytest.raises(ValueError, match="base64"):
        decode_array({**good, "b64": "!!!"})


@pytest.mark.parametrize(
    ("space", "data", "message"),
    [
        (spaces.Discrete(3), 1.5, "integer"),
        (spaces.Discrete(3), True, "integer"),
        (spaces.Discrete(3), "1", "integer"),
        (spaces.Box(-1, 1, (2,)), [1.0], "shape"),
        (spaces.Box(-1, 1, (2,)), [[1.0, 2.0]], "shape"),
        (spaces.Box(-1, 1, (2,)), ["a", "b"], "numbers"),
        (spaces.Box(-1, 1, (2,)), [[1.0], 2.0], "nested list"),
        (spaces.Box(0, 255, (2,), np.uint8), [1, 300], "fit"),
        (spaces.Box(0, 255, (2,), np.uint8), [1, 2.5], "integers"),
        (spaces.MultiBinary(2), [0.5, 1], "integers"),
        (spaces.Dict({"a": spaces.Discrete(2)}), {"b": 1}, "keys"),
        (spaces.Tuple((spaces.Discrete(2),)), [1, 1], "list of 1"),
        (spaces.Text(5), 5, "string"),
    ],
)
def test_decoding_is_strict(space, data, message):
    with pytest.raises(ValueError, match=message):
        decode_value(space, data)


def test_actions_outside_the_space_are_refused_clearly():
    with pytest.raises(ValueError, match=r"action 2 is not in the action space Discrete\(2\)"):
        check_action(spaces.Discrete(2), 2)
    with pytest.raises(ValueError, match="is not in the action space Box"):
        check_action(spaces.Box(-2.0, 2.0, (1,), np.float32), [3.0])
    with pytest.raises(ValueError, match="does not fit the action space"):
        check_action(spaces.Discrete(2), [0])
    assert check_action(spaces.Discrete(2), 1) == 1


def test_unsupported_spaces_say_what_is_supported():
    with pytest.raises(UnsupportedSpace, match="Discrete, Box"):
        describe_space(spaces.Sequence(spaces.Discrete(2)))
    with pytest.raises(UnsupportedSpace):
        space_from_description({"type": "Graph"})
    with pytest.raises(UnsupportedSpace, match="keys must be strings"):
        describe_space(spaces.Dict({1: spaces.Discrete(2)}))


def test_info_becomes_json_safe():
    info = {
        "lives": np.int32(3),
        "ratio": np.float32(0.5),
        "nan": float("nan"),
        "array": np.arange(3),
        "big": np.zeros(1000, np.uint8),
        7: ("a", {"b": np.bool_(True)}),
        "raw": b"\x00\x01",
        "obj": object,
    }
    safe = wire(to_jsonable(info))
    assert safe["lives"] == 3 and safe["ratio"] == 0.5 and safe["nan"] == "nan"
    assert safe["array"] == [0, 1, 2] and decode_array(safe["big"]).shape == (1000,)
    assert safe["7"] == ["a", {"b": True}] and safe["raw"] == "AAE="
    assert safe["obj"] == "<class 'object'>"
