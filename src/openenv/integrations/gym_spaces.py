"""Gymnasium spaces, and the values in them, as JSON and back.

This is what ``gym_env`` and ``atari_env`` send on the wire, and what
:func:`openenv.integrations.gymnasium.to_gymnasium` reads. It needs ``gymnasium``
and ``numpy`` (and Pillow for PNG frames). Both directions of space ⇄ JSON live
here; making spaces from a pydantic model's JSON *schema* (servers without a
``spaces`` tool) is :mod:`openenv.integrations.gymnasium.schema`.

**Space descriptions** (:func:`describe_space` / :func:`space_from_description`):

=================  ==============================================================
space              description
=================  ==============================================================
``Discrete``       ``{"type": "Discrete", "n": 2, "start": 0, "dtype": "int64"}``
``Box``            ``{"type": "Box", "shape": [4], "dtype": "float32", "low": L,
                   "high": H}``; ``L``/``H`` is one number when every bound is the
                   same, else a nested list (an array object, below, past 1024 values)
``MultiDiscrete``  ``{"type": "MultiDiscrete", "nvec": [...], "start": [...],
                   "dtype": "int64"}``
``MultiBinary``    ``{"type": "MultiBinary", "n": 8}`` (``n`` a list for more dimensions)
``Dict``           ``{"type": "Dict", "spaces": {"key": description, ...}}``
``Tuple``          ``{"type": "Tuple", "spaces": [description, ...]}``
``Text``           ``{"type": "Text", "min_length": 1, "max_length": 8, "charset": "ab"}``
=================  ==============================================================

Non-finite numbers in bounds are the strings ``"inf"``, ``"-inf"`` and ``"nan"``.
Other spaces (``Sequence``, ``Graph``, ``OneOf``) raise :class:`UnsupportedSpace`.

**Values** (:func:`encode_value` / :func:`decode_value`): a ``Discrete`` value is an
integer, a ``Text`` value a string, a ``Dict`` value an object and a ``Tuple``
value a list. An array (``Box``, ``MultiDiscrete``, ``MultiBinary``) is a nested
list when it has at most ``inline_limit`` (256) elements, all finite; otherwise an
*array object* ``{"dtype": "uint8", "shape": [210, 160, 3], "b64": "..."}`` (the
little-endian bytes in C order, base64): exact, and about 1.33 bytes per byte.
``uint8`` images may also come as ``{"png": "..."}`` (base64 PNG, lossless). Both
ways are exact: a float32 printed as JSON and read back is the same float32.

Example::

    space = Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
    description = describe_space(space)          # JSON-safe dict
    assert space_from_description(description) == space
    wire = encode_value(space, space.sample())   # [0.12, -0.5, 0.9]
    value = decode_value(space, wire)            # float32 array, bit-exact
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import operator
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ..errors import UnsupportedSpace

try:
    import numpy as np
    from gymnasium import spaces
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"openenv.integrations.gym_spaces needs gymnasium and numpy ({exc}); "
        "pip install 'openenv-rl[gymnasium]'"
    ) from exc

INLINE_LIMIT = 256
"""Arrays with at most this many elements travel as nested lists (when finite)."""
BOUNDS_INLINE_LIMIT = 1024
"""Box bounds with at most this many elements are nested lists in a description."""
MAX_DEPTH = 32

ArrayEncoding = Literal["auto", "list", "base64"]

SUPPORTED_SPACES = ("Discrete", "Box", "MultiDiscrete", "MultiBinary", "Dict", "Tuple", "Text")

_DTYPES = frozenset(
    {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
    | {"float16", "float32", "float64"}
)


# -- numbers and arrays ----------------------------------------------------------------------


def _dtype(name: Any) -> np.dtype[Any]:
    if not isinstance(name, str) or name not in _DTYPES:
        raise ValueError(f"unsupported dtype {name!r}; expected one of {sorted(_DTYPES)}")
    return np.dtype(name)


def _number(x: Any) -> Any:
    """A numpy or Python scalar as JSON: a number, or "inf"/"-inf"/"nan"."""
    value = x.item() if isinstance(x, np.generic) else x
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _from_number(x: Any) -> Any:
    if isinstance(x, str):
        if x in ("inf", "-inf", "nan"):
            return float(x)
        raise ValueError(f"expected a number or 'inf'/'-inf'/'nan', got {x!r}")
    if isinstance(x, list):
        return [_from_number(v) for v in x]
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ValueError(f"expected a number, got {type(x).__name__}")
    return x


def encode_array(array: Any) -> dict[str, Any]:
    """``{"dtype", "shape", "b64"}``: the array's little-endian bytes, base64."""
    arr = np.asarray(array)
    _dtype(arr.dtype.name)
    little = arr.astype(arr.dtype.newbyteorder("<"), order="C", copy=False)
    return {
        "dtype": arr.dtype.name,
        "shape": list(arr.shape),
        "b64": base64.b64encode(little.tobytes(order="C")).decode("ascii"),
    }


def decode_array(data: Mapping[str, Any]) -> np.ndarray:
    """The array of an ``{"dtype", "shape", "b64"}`` object (a fresh, writable one)."""
    dtype = _dtype(data.get("dtype"))
    shape = data.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise ValueError(f"an array's shape is a list of sizes, got {shape!r}")
    text = data.get("b64")
    if not isinstance(text, str):
        raise ValueError("an array object needs its bytes as base64 in 'b64'")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("an array's 'b64' is not valid base64") from None
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"an array of shape {shape} and dtype {dtype} is {expected} bytes, "
                         f"got {len(raw)}")  # fmt: skip
    return np.frombuffer(raw, dtype=dtype.newbyteorder("<")).reshape(shape).astype(dtype)


def encode_png(image: Any, compress_level: int = 1) -> str:
    """A ``uint8`` image ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` as base64 PNG."""
    from PIL import Image

    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"a PNG frame must be uint8, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise ValueError(
            f"a PNG frame is (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got {arr.shape}"
        )
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buffer, "PNG", compress_level=compress_level)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_png(text: str) -> np.ndarray:
    """The ``uint8`` array of a base64 PNG: ``(H, W)`` for grey, ``(H, W, 3|4)`` for colour."""
    from PIL import Image

    if not isinstance(text, str):
        raise ValueError("a PNG frame is a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise ValueError(f"not a PNG image but {image.format}")
            if image.mode not in ("L", "RGB", "RGBA"):
                image = image.convert("RGB")
            return np.array(image)
    except (binascii.Error, OSError) as exc:
        raise ValueError(f"not a base64 PNG image: {exc}") from None


def _bounds(values: np.ndarray) -> Any:
    flat = values.ravel()
    if flat.size and (flat == flat[0]).all():
        return _number(flat[0])
    if flat.size > BOUNDS_INLINE_LIMIT:
        return encode_array(values)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        return _nested_numbers(values)
    return values.tolist()


def _nested_numbers(values: np.ndarray) -> Any:
    if values.ndim == 0:
        return _number(values[()])
    return [_nested_numbers(v) for v in values]


def _bounds_array(data: Any, shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
    if isinstance(data, Mapping):
        return decode_array(data)
    values = _from_number(data)
    if isinstance(values, list):
        return np.array(values, dtype=np.float64 if dtype.kind == "f" else object).astype(dtype)
    return np.full(shape, values, dtype=np.float64 if dtype.kind == "f" else object).astype(dtype)


# -- descriptions ----------------------------------------------------------------------------


def describe_space(space: spaces.Space[Any]) -> dict[str, Any]:
    """A JSON-safe description of ``space``; :class:`UnsupportedSpace` for other kinds."""
    if isinstance(space, spaces.Discrete):
        return {
            "type": "Discrete",
            "n": int(space.n),
            "start": int(space.start),
            "dtype": space.dtype.name,
        }
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": space.dtype.name,
            "low": _bounds(space.low),
            "high": _bounds(space.high),
        }
    if isinstance(space, spaces.MultiDiscrete):
        return {
            "type": "MultiDiscrete",
            "nvec": space.nvec.tolist(),
            "start": space.start.tolist(),
            "dtype": space.dtype.name,
        }
    if isinstance(space, spaces.MultiBinary):
        n = space.n
        return {"type": "MultiBinary", "n": int(n) if np.ndim(n) == 0 else [int(v) for v in n]}
    if isinstance(space, spaces.Dict):
        bad = [k for k in space.spaces if not isinstance(k, str)]
        if bad:
            raise UnsupportedSpace(f"Dict keys must be strings to travel as JSON, got {bad!r}")
        return {"type": "Dict", "spaces": {k: describe_space(s) for k, s in space.spaces.items()}}
    if isinstance(space, spaces.Tuple):
        return {"type": "Tuple", "spaces": [describe_space(s) for s in space.spaces]}
    if isinstance(space, spaces.Text):
        return {
            "type": "Text",
            "min_length": int(space.min_length),
            "max_length": int(space.max_length),
            "charset": "".join(space.character_list),
        }
    raise UnsupportedSpace(
        f"{type(space).__name__} spaces cannot travel as JSON yet; "
        f"supported: {', '.join(SUPPORTED_SPACES)}"
    )


def space_from_description(description: Mapping[str, Any], _depth: int = 0) -> spaces.Space[Any]:
    """The Gymnasium space a :func:`describe_space` description stands for."""
    if _depth > MAX_DEPTH:
        raise ValueError("space description nested too deeply")
    if not isinstance(description, Mapping):
        raise ValueError(f"a space description is an object, got {type(description).__name__}")
    kind = description.get("type")
    if kind == "Discrete":
        return spaces.Discrete(
            int(description["n"]),
            start=int(description.get("start", 0)),
            dtype=_dtype(description.get("dtype", "int64")),
        )
    if kind == "Box":
        dtype = _dtype(description.get("dtype", "float32"))
        shape = tuple(int(n) for n in description["shape"])
        low = _bounds_array(description["low"], shape, dtype)
        high = _bounds_array(description["high"], shape, dtype)
        return spaces.Box(low=low, high=high, shape=shape, dtype=dtype)  # type: ignore[arg-type]
    if kind == "MultiDiscrete":
        dtype = _dtype(description.get("dtype", "int64"))
        nvec = np.array(description["nvec"], dtype=dtype)
        start = description.get("start")
        return spaces.MultiDiscrete(
            nvec, dtype=dtype, start=None if start is None else np.array(start, dtype=dtype)
        )
    if kind == "MultiBinary":
        n = description["n"]
        return spaces.MultiBinary(int(n) if isinstance(n, int) else [int(v) for v in n])
    if kind == "Dict":
        children = description["spaces"]
        if not isinstance(children, Mapping):
            raise ValueError("a Dict description's 'spaces' is an object")
        return spaces.Dict(
            OrderedDict(
                (str(k), space_from_description(v, _depth + 1)) for k, v in children.items()
            )
        )
    if kind == "Tuple":
        children = description["spaces"]
        if not isinstance(children, list):
            raise ValueError("a Tuple description's 'spaces' is a list")
        return spaces.Tuple([space_from_description(v, _depth + 1) for v in children])
    if kind == "Text":
        return spaces.Text(
            int(description["max_length"]),
            min_length=int(description.get("min_length", 1)),
            charset=str(description["charset"]),
        )
    raise UnsupportedSpace(
        f"unknown space type {kind!r} in a description; supported: {', '.join(SUPPORTED_SPACES)}"
    )


# -- values ----------------------------------------------------------------------------------

ARRAY_SPACES = (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)


def _array_dtype(space: spaces.Space[Any]) -> np.dtype[Any]:
    return np.dtype(space.dtype)


def _where(path: str) -> str:
    return f"{path}: " if path else ""


def _cast(arr: np.ndarray, dtype: np.dtype[Any], path: str) -> np.ndarray:
    """``arr`` as ``dtype``, refusing casts that change a value (1.5 -> 1, 300 -> uint8)."""
    if arr.dtype == dtype:
        return arr
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise ValueError(f"{_where(path)}expected numbers, got {arr.dtype} values")
    if dtype.kind in "biu" and arr.size:
        if kind == "f":
            if not np.isfinite(arr).all() or (arr != np.round(arr)).any():
                raise ValueError(f"{_where(path)}expected integers for dtype {dtype}")
        if dtype.kind == "b":
            if not np.isin(arr, (0, 1)).all():
                raise ValueError(f"{_where(path)}expected booleans (0 or 1)")
        else:
            info = np.iinfo(dtype)
            low, high = arr.min(), arr.max()
            if low < info.min or high > info.max:
                raise ValueError(
                    f"{_where(path)}values in [{_number(low)}, {_number(high)}] do not fit {dtype}"
                )
    return arr.astype(dtype)


def _as_array(space: spaces.Space[Any], value: Any, path: str) -> np.ndarray:
    dtype = _array_dtype(space)
    if isinstance(value, Mapping):
        if "png" in value:
            arr = decode_png(value["png"])
            if arr.shape != space.shape and arr.size == math.prod(space.shape or ()):
                arr = arr.reshape(space.shape)
        else:
            arr = decode_array(value)
    else:
        try:
            arr = np.array(value)
        except (ValueError, TypeError):  # ragged lists
            raise ValueError(
                f"{_where(path)}expected a nested list of shape {space.shape}"
            ) from None
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise ValueError(
                f"{_where(path)}expected numbers in a nested list of shape {space.shape}, "
                f"got {_summary(value)}"
            )
    if arr.shape != space.shape:
        raise ValueError(f"{_where(path)}expected shape {space.shape}, got {arr.shape}")
    return _cast(arr, dtype, path)


def encode_value(
    space: spaces.Space[Any],
    value: Any,
    *,
    arrays: ArrayEncoding = "auto",
    inline_limit: int = INLINE_LIMIT,
) -> Any:
    """``value`` (an element of ``space``) as JSON; see the module docstring.

    ``arrays``: ``"auto"`` (lists up to ``inline_limit`` elements, else base64),
    ``"list"`` (lists whenever the values are finite) or ``"base64"`` (always).
    Raises :class:`ValueError` when ``value`` does not have the space's structure.
    """
    return _encode(space, value, arrays, inline_limit, "", 0)


def _encode(
    space: spaces.Space[Any], value: Any, arrays: str, inline_limit: int, path: str, depth: int
) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if isinstance(space, spaces.Discrete):
        if isinstance(value, np.ndarray) and value.shape == ():
            value = value[()]
        try:
            return operator.index(value)
        except TypeError:
            raise ValueError(f"{_where(path)}expected an integer, got {_summary(value)}") from None
    if isinstance(space, ARRAY_SPACES):
        if isinstance(value, Mapping):  # already encoded
            value = _as_array(space, value, path)
        arr = np.asarray(value)
        if arr.shape != space.shape:
            raise ValueError(f"{_where(path)}expected shape {space.shape}, got {arr.shape}")
        arr = _cast(arr, _array_dtype(space), path)
        finite = arr.dtype.kind != "f" or bool(np.isfinite(arr).all())
        if arrays == "base64" or not finite or (arrays == "auto" and arr.size > inline_limit):
            return encode_array(arr)
        return arr.tolist()
    if isinstance(space, spaces.Dict):
        if not isinstance(value, Mapping) or set(value) != set(space.spaces):
            raise ValueError(
                f"{_where(path)}expected an object with keys {sorted(space.spaces)}, "
                f"got {_summary(value)}"
            )
        return {
            k: _encode(s, value[k], arrays, inline_limit, f"{path}[{k!r}]", depth + 1)
            for k, s in space.spaces.items()
        }
    if isinstance(space, spaces.Tuple):
        if (
            isinstance(value, str | bytes)
            or not isinstance(value, Sequence)
            or len(value) != len(space.spaces)
        ):
            raise ValueError(
                f"{_where(path)}expected a sequence of {len(space.spaces)}, got {_summary(value)}"
            )
        return [
            _encode(s, v, arrays, inline_limit, f"{path}[{i}]", depth + 1)
            for i, (s, v) in enumerate(zip(space.spaces, value, strict=True))
        ]
    if isinstance(space, spaces.Text):
        if not isinstance(value, str):
            raise ValueError(f"{_where(path)}expected a string, got {_summary(value)}")
        return value
    raise UnsupportedSpace(
        f"{type(space).__name__} spaces cannot travel as JSON yet; "
        f"supported: {', '.join(SUPPORTED_SPACES)}"
    )


def decode_value(space: spaces.Space[Any], data: Any, path: str = "") -> Any:
    """The value that JSON ``data`` stands for in ``space``, with the space's types.

    Strict: wrong structure, shape or type raises :class:`ValueError` saying where
    (``[“pos”][1]: expected an integer``). A ``Discrete`` value comes back as the
    space's integer type, arrays as ``numpy`` arrays of the space's dtype, ``Dict``
    values as dicts, ``Tuple`` values as tuples. Bounds are not checked here: use
    ``space.contains(value)``.
    """
    return _decode(space, data, path, 0)


def _decode(space: spaces.Space[Any], data: Any, path: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if isinstance(space, spaces.Discrete):
        if isinstance(data, bool) or not isinstance(data, int):
            raise ValueError(f"{_where(path)}expected an integer, got {_summary(data)}")
        try:
            return space.dtype.type(data)  # type: ignore[union-attr]
        except OverflowError:
            raise ValueError(f"{_where(path)}integer {data} out of range") from None
    if isinstance(space, ARRAY_SPACES):
        return _as_array(space, data, path)
    if isinstance(space, spaces.Dict):
        if not isinstance(data, Mapping) or set(data) != set(space.spaces):
            raise ValueError(
                f"{_where(path)}expected an object with keys {sorted(space.spaces)}, "
                f"got {_summary(data)}"
            )
        return {
            k: _decode(s, data[k], f"{path}[{k!r}]", depth + 1) for k, s in space.spaces.items()
        }
    if isinstance(space, spaces.Tuple):
        if not isinstance(data, list) or len(data) != len(space.spaces):
            raise ValueError(
                f"{_where(path)}expected a list of {len(space.spaces)}, got {_summary(data)}"
            )
        return tuple(
            _decode(s, v, f"{path}[{i}]", depth + 1)
            for i, (s, v) in enumerate(zip(space.spaces, data, strict=True))
        )
    if isinstance(space, spaces.Text):
        if not isinstance(data, str):
            raise ValueError(f"{_where(path)}expected a string, got {_summary(data)}")
        return data
    raise UnsupportedSpace(
        f"{type(space).__name__} spaces cannot travel as JSON yet; "
        f"supported: {', '.join(SUPPORTED_SPACES)}"
    )


def check_action(space: spaces.Space[Any], data: Any) -> Any:
    """Decode an action sent as JSON and check it lies in ``space``.

    Raises :class:`ValueError` with the action and the space, e.g.
    ``action 5 is not in the action space Discrete(2)``.
    """
    try:
        value = decode_value(space, data)
    except ValueError as exc:
        raise ValueError(
            f"action {_summary(data)} does not fit the action space {space}: {exc}"
        ) from None
    if not space.contains(value):
        raise ValueError(f"action {_summary(data)} is not in the action space {space}")
    return value


def _summary(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- anything else (info dicts) ----------------------------------------------------------------


def to_jsonable(value: Any, inline_limit: int = INLINE_LIMIT, _depth: int = 0) -> Any:
    """A JSON-safe copy of ``value`` (an ``info`` dict, typically).

    numpy scalars become Python numbers, arrays become lists (array objects past
    ``inline_limit`` elements or with non-finite values), non-finite floats the
    strings ``"nan"``/``"inf"``/``"-inf"``, tuples and sets lists, mapping keys
    strings, bytes base64; anything else its ``repr``.
    """
    if _depth > MAX_DEPTH:
        return "..."
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, np.generic):
        return to_jsonable(value.item(), inline_limit, _depth + 1)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            finite = value.dtype.kind != "f" or bool(np.isfinite(value).all())
            if value.size <= inline_limit and finite:
                return value.tolist()
            return encode_array(value)
        return [to_jsonable(v, inline_limit, _depth + 1) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, inline_limit, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v, inline_limit, _depth + 1) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return repr(value)[:1000]
