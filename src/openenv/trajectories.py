"""Trajectories: every episode a session plays, as one JSON line; loaded back, replayed.

A :class:`TrajectoryRecorder` writes each episode when it ends (or when the
session moves on) as one line of a JSONL file: the environment, the seed and reset
options, every action, every observation (the reset's first), rewards, ``done``,
per-call timings, and ``failure`` when the infrastructure failed the episode (such
episodes are kept apart, never read as a bad episode). Images — observation
fields holding a base64 PNG (``atari_env`` frames, ``openapp_env`` screenshots) —
go to PNG files beside the records (``images="files"``, the default) or stay in
the line (``images="inline"``).

Any session can be recorded — a client, an in-process environment's
:class:`~openenv.agents.LocalSession` — and every session of an
:class:`~openenv.EnvPool` (``EnvPool(..., recorder=recorder)``)::

    with TrajectoryRecorder("runs/echo.jsonl", env="echo_env") as recorder:
        env = recorder.record(EchoEnv(base_url=url))       # reset/step as before
        env.reset(seed=1)
        env.step(EchoAction(message="hi"))
    episodes = load_episodes("runs/echo.jsonl")
    dataset = load_dataset("runs/echo.jsonl")             # a datasets.Dataset

:func:`replay` plays a recorded episode's actions again from its seed and options
and says where, if anywhere, the observations or rewards differ: for a
deterministic environment, nowhere (fields the schema marks ``nondeterministic``
are left out, as the determinism checks of :mod:`openenv.testing` do).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from .types import StepResult, nondeterministic_fields

PNG_PREFIX = "iVBORw0KGgo"
"""How a base64 PNG begins (the PNG signature, encoded)."""


class Episode(BaseModel):
    """One recorded episode: one line of a trajectories file.

    ``observations[0]`` is the reset's; ``observations[k]`` follows ``actions[k - 1]``;
    ``rewards`` and ``timings_s`` have one entry per call, the reset's first.
    """

    env: str
    seed: int | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    actions: list[Any] = Field(default_factory=list)
    observations: list[dict[str, Any]] = Field(default_factory=list)
    rewards: list[float | None] = Field(default_factory=list)
    done: bool = False
    failure: str | None = None
    """Why the infrastructure ended this episode (connection lost, worker died), if it did."""
    timings_s: list[float] = Field(default_factory=list)
    started_at: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """What the recorder's user adds (policy name, model version, ...)."""

    @property
    def steps(self) -> int:
        """How many steps were taken."""
        return len(self.actions)

    @property
    def total_reward(self) -> float:
        """The sum of the steps' rewards (the reset's counts too; ``None`` is 0)."""
        return float(sum(r or 0.0 for r in self.rewards))


class TrajectoryRecorder:
    """Writes episodes to ``path`` (JSONL, appended), one line when each ends.

    ``env`` names the environment in each record; ``images`` is ``"files"`` (PNG
    fields written to ``<path stem>.images/`` and recorded as ``{"png": "relative
    path"}``) or ``"inline"`` (kept as base64 in the line); ``metadata`` goes into
    every record. Safe to use from several threads. Close it (or use ``with``) to
    write the episodes still open.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        env: str,
        images: Literal["files", "inline"] = "files",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if images not in ("files", "inline"):
            raise ValueError(f"images is 'files' or 'inline', not {images!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.images = images
        self.metadata = dict(metadata or {})
        self.image_dir = self.path.with_name(self.path.stem + ".images")
        self._open: dict[Hashable, Episode] = {}
        self._lock = threading.Lock()
        self._file = self.path.open("a", encoding="utf-8")
        self._count = sum(1 for _ in self.path.open(encoding="utf-8"))
        self.written = 0
        """Episodes written by this recorder."""

    # -- what sessions call --------------------------------------------------------

    def reset(
        self,
        key: Hashable,
        options: dict[str, Any],
        result: StepResult[Any],
        seconds: float = 0.0,
    ) -> None:
        """Session ``key`` started an episode with ``options`` (its seed among them)."""
        options = dict(options)
        seed = options.pop("seed", None)
        episode = Episode(
            env=self.env,
            seed=seed,
            options=_plain(options),
            started_at=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            metadata=dict(self.metadata),
        )
        with self._lock:
            previous = self._open.pop(key, None)
            if previous is not None:
                self._write(previous)
            self._open[key] = episode
            self._add(episode, None, result, seconds)

    def step(
        self, key: Hashable, action: Any, result: StepResult[Any], seconds: float = 0.0
    ) -> None:
        """Session ``key`` took ``action`` and got ``result``; its episode ends if done."""
        with self._lock:
            episode = self._open.get(key)
            if episode is None:
                return  # a step outside a recorded episode (before the first reset)
            self._add(episode, _plain(action), result, seconds)
            if result.done:
                self._write(self._open.pop(key))

    def fail(self, key: Hashable, reason: str) -> None:
        """The infrastructure ended session ``key``'s episode: it is written as failed."""
        with self._lock:
            episode = self._open.pop(key, None)
            if episode is not None:
                episode.failure = reason
                self._write(episode)

    def end(self, key: Hashable) -> None:
        """Session ``key`` closed: write its open episode as it stands (not ``done``)."""
        with self._lock:
            episode = self._open.pop(key, None)
            if episode is not None:
                self._write(episode)

    def record(self, session: Any) -> RecordingSession:
        """``session`` with its resets and steps recorded; see :class:`RecordingSession`."""
        return RecordingSession(session, self)

    def close(self) -> None:
        """Write the episodes still open and close the file. Safe to call twice."""
        with self._lock:
            for key in list(self._open):
                self._write(self._open.pop(key))
            if not self._file.closed:
                self._file.close()

    def __enter__(self) -> TrajectoryRecorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------

    def _add(self, episode: Episode, action: Any, result: StepResult[Any], seconds: float) -> None:
        if action is not None:
            episode.actions.append(action)
        episode.observations.append(_plain(result.observation))
        episode.rewards.append(None if result.reward is None else float(result.reward))
        episode.done = bool(result.done)
        episode.timings_s.append(round(seconds, 6))

    def _write(self, episode: Episode) -> None:
        number = self._count
        self._count += 1
        if self.images == "files":
            episode.observations = [
                self._images_to_files(obs, f"{number:06d}-{step:04d}")
                for step, obs in enumerate(episode.observations)
            ]
        self._file.write(episode.model_dump_json() + "\n")
        self._file.flush()
        self.written += 1

    def _images_to_files(self, value: Any, stem: str, path: str = "") -> Any:
        if isinstance(value, dict):
            return {
                k: self._images_to_files(v, stem, f"{path}.{k}" if path else k)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._images_to_files(v, stem, f"{path}.{i}") for i, v in enumerate(value)]
        if isinstance(value, str) and value.startswith(PNG_PREFIX):
            self.image_dir.mkdir(exist_ok=True)
            file = self.image_dir / f"{stem}-{path or 'value'}.png"
            file.write_bytes(base64.b64decode(value))
            return {"png": str(file.relative_to(self.path.parent))}
        return value


class RecordingSession:
    """A session whose ``reset`` and ``step`` are recorded; everything else passes through.

    Example::

        env = recorder.record(EchoEnv(base_url=url))
        env.reset(seed=3)                       # a new episode in the file
    """

    def __init__(self, session: Any, recorder: TrajectoryRecorder) -> None:
        self.session = session
        self.recorder = recorder

    def reset(self, **options: Any) -> StepResult[Any]:
        """The session's ``reset``, recorded as a new episode."""
        started = time.perf_counter()
        result = self.session.reset(**options)
        self.recorder.reset(id(self), options, result, time.perf_counter() - started)
        return result

    def step(self, action: Any, *args: Any, **kwargs: Any) -> StepResult[Any]:
        """The session's ``step``, recorded; an error that loses the session fails the episode."""
        from .errors import is_infrastructure

        started = time.perf_counter()
        try:
            result = self.session.step(action, *args, **kwargs)
        except Exception as exc:
            if is_infrastructure(exc):
                self.recorder.fail(id(self), f"{type(exc).__name__}: {exc}")
            raise
        self.recorder.step(id(self), action, result, time.perf_counter() - started)
        return result

    def close(self) -> None:
        """Close the session; its open episode is written as it stands."""
        self.recorder.end(id(self))
        self.session.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def __enter__(self) -> RecordingSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _plain(value: Any) -> Any:
    """JSON data of an action or observation (a pydantic model, a dict, a value)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return json.loads(json.dumps(value, default=str))


# -- reading back ---------------------------------------------------------------------


def iter_episodes(path: str | os.PathLike[str]) -> Iterator[Episode]:
    """The episodes of a trajectories file, one by one."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield Episode.model_validate_json(line)
                except ValueError as exc:
                    raise ValueError(f"{path}:{number}: not an episode record ({exc})") from None


def load_episodes(path: str | os.PathLike[str], *, include_failed: bool = False) -> list[Episode]:
    """The episodes of a trajectories file; those the infrastructure failed are left
    out unless ``include_failed``."""
    return [e for e in iter_episodes(path) if include_failed or e.failure is None]


def load_dataset(path: str | os.PathLike[str], *, include_failed: bool = False) -> Any:
    """A trajectories file as a ``datasets.Dataset``: one row per episode, with the
    columns of :class:`Episode` plus ``steps`` and ``total_reward``.

    Actions and observations are JSON strings (``json.loads`` them), so that episodes
    of any environment share one schema. Needs the ``datasets`` package.
    """
    try:
        import datasets
    except ImportError:
        raise ImportError("load_dataset needs the datasets package: pip install datasets") from None
    rows = []
    for episode in load_episodes(path, include_failed=include_failed):
        row = episode.model_dump()
        for column in ("options", "actions", "observations", "metadata"):
            row[column] = json.dumps(row[column])
        row["steps"] = episode.steps
        row["total_reward"] = episode.total_reward
        rows.append(row)
    return datasets.Dataset.from_list(rows)


# -- replay ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayResult:
    """How a replay went: ``same`` when every observation, reward and ``done`` repeated."""

    same: bool
    difference: str = ""
    """Where the replay first parted from the record (``"step 3: reward 0.5 then 0.0"``)."""
    steps: int = 0


def replay(
    episode: Episode,
    session: Any,
    *,
    ignore: set[str] | None = None,
    base: str | os.PathLike[str] | None = None,
) -> ReplayResult:
    """Play ``episode``'s actions again in ``session`` from its seed and options.

    ``ignore`` names observation fields to leave out of the comparison; by default
    those the session's ``/schema`` marks ``nondeterministic`` (when it can say).
    ``base`` is the folder the record's image files are relative to (the
    trajectories file's folder), needed only for episodes recorded with image files.
    """
    from .testing.checks import first_difference

    if ignore is None:
        ignore = _nondeterministic_fields(session)
    options = dict(episode.options)
    if episode.seed is not None:
        options["seed"] = episode.seed
    action_type = _action_type(session)
    results = [session.reset(**options)]
    for action in episode.actions:
        if results[-1].done:
            break
        results.append(session.step(action_type.model_validate(action) if action_type else action))
    load_image = _image_loader(base)
    for index, (recorded, result) in enumerate(zip(episode.observations, results, strict=False)):
        where = "reset" if index == 0 else f"step {index}"
        want = {k: load_image(v) for k, v in recorded.items() if k not in ignore}
        got = {k: v for k, v in _plain(result.observation).items() if k not in ignore}
        path = first_difference(want, got)
        if path is not None:
            return ReplayResult(False, f"{where}: observation differs at {path}", index)
        reward = None if result.reward is None else float(result.reward)
        if reward != episode.rewards[index]:
            return ReplayResult(
                False, f"{where}: reward {episode.rewards[index]} then {reward}", index
            )
    if len(results) != len(episode.observations):
        return ReplayResult(
            False,
            f"{len(episode.observations) - 1} steps recorded, {len(results) - 1} replayed",
            len(results) - 1,
        )
    if bool(results[-1].done) != episode.done:
        return ReplayResult(False, f"done was {episode.done}, then {results[-1].done}")
    return ReplayResult(True, "", len(results) - 1)


def _image_loader(base: str | os.PathLike[str] | None) -> Callable[[Any], Any]:
    def load(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"png"} and isinstance(value["png"], str):
                if base is None:
                    raise ValueError("the record has image files: pass base= (its folder)")
                data = (Path(base) / value["png"]).read_bytes()
                return base64.b64encode(data).decode("ascii")
            return {k: load(v) for k, v in value.items()}
        if isinstance(value, list):
            return [load(v) for v in value]
        return value

    return load


def _action_type(session: Any) -> type[BaseModel] | None:
    """The session's action model (its client's, or its in-process environment's)."""
    from .types import Action

    env = getattr(session, "env", None)  # a LocalSession
    action_type = getattr(type(env) if env is not None else session, "action_type", None)
    if isinstance(action_type, type) and issubclass(action_type, BaseModel):
        return None if action_type is Action else action_type
    return None


def _nondeterministic_fields(session: Any) -> set[str]:
    """The observation fields ``session``'s schema marks ``nondeterministic``."""
    schema: dict[str, Any] | None = None
    observation_type = getattr(session, "observation_type", None)
    env = getattr(session, "env", None)  # a LocalSession
    if env is not None:
        observation_type = getattr(type(env), "observation_type", observation_type)
    if isinstance(observation_type, type) and issubclass(observation_type, BaseModel):
        schema = observation_type.model_json_schema()
    return set() if schema is None else nondeterministic_fields(schema)
