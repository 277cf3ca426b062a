"""Trajectories: recorded as episodes end, loaded back, replayed exactly."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from openenv import Action, Environment, EnvPool, Observation, State
from openenv.agents import LocalSession, load_agents, package_of
from openenv.discovery import find_environment
from openenv.errors import SessionLostError
from openenv.trajectories import (
    TrajectoryRecorder,
    iter_episodes,
    load_dataset,
    load_episodes,
    replay,
)
from tests.conftest import Served
from tests.envs_for_tests import ToyAction, ToyEnv, ToyObservation

pytestmark = pytest.mark.timeout(120)

PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a0ad8a"
        "2e0000000049454e44ae426082"
    )
).decode()


def test_a_recorded_session_writes_each_episode_when_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "toy.jsonl"
    with TrajectoryRecorder(path, env="toy", metadata={"policy": "scripted"}) as recorder:
        env = recorder.record(LocalSession(ToyEnv()))
        env.reset(seed=4, colour="red")
        env.step(ToyAction(message="ab"))
        env.step(ToyAction(message="done"))
        assert len(load_episodes(path)) == 1  # written when it ended, not at close
        env.reset(seed=5)
        env.step(ToyAction(message="x"))
    first, second = load_episodes(path)
    assert (first.env, first.seed, first.options) == ("toy", 4, {"colour": "red"})
    assert first.actions == [
        {"message": "ab", "seconds": 0.0, "fail": False, "number": 0, "metadata": {}},
        {"message": "done", "seconds": 0.0, "fail": False, "number": 0, "metadata": {}},
    ]
    assert [o["echoed"] for o in first.observations] == ["", "ab", "done"]
    assert first.rewards == [None, 0.2, 0.4] and first.total_reward == pytest.approx(0.6)
    assert first.done and first.steps == 2 and len(first.timings_s) == 3
    assert first.metadata == {"policy": "scripted"} and first.started_at
    # The open episode was written at close, as it stood.
    assert second.seed == 5 and second.steps == 1 and not second.done


def test_a_lost_session_is_a_failed_episode_kept_apart(
    tmp_path: Path, serve: Callable[..., Served]
) -> None:
    from tests.client.test_envpool import ToyClient

    served = serve(ToyEnv)
    path = tmp_path / "t.jsonl"
    with TrajectoryRecorder(path, env="toy") as recorder:
        env = recorder.record(ToyClient(base_url=served.base_url))
        env.reset(seed=1)
        env.step(ToyAction(message="a"))
        served.stop()
        with pytest.raises(SessionLostError):
            env.step(ToyAction(message="b"))
    assert load_episodes(path) == []  # not a bad episode: no episode at all
    (failed,) = load_episodes(path, include_failed=True)
    assert failed.failure and "SessionLostError" in failed.failure and failed.steps == 1


def test_a_pool_records_every_session_and_its_failures(
    tmp_path: Path, serve: Callable[..., Served]
) -> None:
    from tests.client.test_envpool import ToyClient

    alive, doomed = serve(ToyEnv), serve(ToyEnv)
    path = tmp_path / "pool.jsonl"
    with TrajectoryRecorder(path, env="toy") as recorder:
        urls = [alive.base_url, doomed.base_url]
        with EnvPool(ToyClient, urls, n=2, autoreset=True, recorder=recorder) as pool:
            pool.reset(seeds=10)
            pool.step([ToyAction(message="done")] * 2)  # both episodes end
            pool.step([ToyAction()] * 2)  # autoreset: seeds 12 and 13
            doomed.stop()
            batch = pool.step([ToyAction(message="a")] * 2)
            assert batch.failed.tolist() == [False, True]
    episodes = load_episodes(path, include_failed=True)
    assert sorted(e.seed for e in episodes if e.done) == [10, 11]
    failed = [e for e in episodes if e.failure]
    assert [e.seed for e in failed] == [13]
    (open_at_close,) = [e for e in episodes if not e.done and not e.failure]
    assert open_at_close.seed == 12 and open_at_close.steps == 1


class FrameObservation(Observation):
    frame: str = ""
    count: int = 0


class FrameEnv(Environment[Action, FrameObservation, State]):
    """Observations carry a base64 PNG, as atari_env's and openapp_env's do."""

    def _reset(self, seed: int | None = None, episode_id: str | None = None) -> FrameObservation:
        return FrameObservation(frame=PIXEL)

    def _step(self, action: Action, timeout_s: float | None = None) -> FrameObservation:
        return FrameObservation(frame=PIXEL, count=self.state.step_count, done=True)


@pytest.mark.parametrize("images", ["files", "inline"])
def test_images_go_to_files_or_stay_inline(tmp_path: Path, images: str) -> None:
    path = tmp_path / "frames.jsonl"
    with TrajectoryRecorder(path, env="frames", images=images) as recorder:  # type: ignore[arg-type]
        env = recorder.record(LocalSession(FrameEnv()))
        env.reset(seed=0)
        env.step(Action())
    (episode,) = load_episodes(path)
    line = path.read_text()
    if images == "files":
        assert PIXEL not in line
        files = sorted((tmp_path / "frames.images").iterdir())
        assert len(files) == 2 and files[0].read_bytes() == base64.b64decode(PIXEL)
        assert episode.observations[0]["frame"] == {"png": f"frames.images/{files[0].name}"}
        with pytest.raises(ValueError, match="pass base="):
            replay(episode, LocalSession(FrameEnv()))
    else:
        assert episode.observations[0]["frame"] == PIXEL
    assert replay(episode, LocalSession(FrameEnv()), base=tmp_path).same


SHIPPED = ["echo_env", "gridworld_env", "maze_env", "wordle_env", "connect4_env", "chess_env"]


@pytest.mark.parametrize("name", SHIPPED)
def test_replaying_a_recorded_episode_repeats_it(tmp_path: Path, name: str) -> None:
    """The env's own good agent plays recorded; a fresh instance replays it exactly."""
    found = find_environment(name)
    agents = load_agents(package_of(found.env_class), found.settings)
    tasks = agents.tasks() if callable(agents.tasks) else agents.tasks
    path = tmp_path / f"{name}.jsonl"
    with TrajectoryRecorder(path, env=name) as recorder:
        for task in list(tasks)[:2]:
            session = recorder.record(LocalSession(found.env_class()))
            first = session.reset(**task.reset)
            if agents.good is not None:
                agents.good(session, first, task)
            else:
                agents.random(session, first, task)  # type: ignore[misc]
            session.close()
    episodes = load_episodes(path)
    assert len(episodes) == 2 and all(e.steps > 0 for e in episodes)
    for episode in episodes:
        result = replay(episode, LocalSession(found.env_class()))
        assert result.same, result.difference
        assert result.steps == episode.steps


class Unseeded(ToyEnv):
    """Ignores its seed: a replay cannot repeat it, and must say so."""

    def _observe(self, action: ToyAction) -> ToyObservation:
        observation = super()._observe(action)
        observation.draw = random.randint(0, 10**9)
        return observation


def test_a_replay_that_parts_from_the_record_says_where(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    with TrajectoryRecorder(path, env="u") as recorder:
        env = recorder.record(LocalSession(Unseeded()))
        env.reset(seed=1)
        env.step(ToyAction(message="a"))
        env.close()
    (episode,) = load_episodes(path)
    result = replay(episode, LocalSession(Unseeded()))
    assert not result.same and result.difference.startswith("step 1: observation differs at draw")
    # A forged reward in the record is caught too.
    episode.rewards[1] = 0.9
    result = replay(episode, LocalSession(ToyEnv()), ignore={"draw"})
    assert not result.same and result.difference == "step 1: reward 0.9 then 0.1"


def test_load_dataset_gives_one_row_per_episode(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    with TrajectoryRecorder(path, env="toy") as recorder:
        for seed in range(3):
            env = recorder.record(LocalSession(ToyEnv()))
            env.reset(seed=seed)
            env.step(ToyAction(message="done" if seed else "abc"))
            env.close()
    dataset = load_dataset(path)
    assert dataset.num_rows == 3
    assert dataset["seed"] == [0, 1, 2] and dataset["steps"] == [1, 1, 1]
    assert dataset["total_reward"] == pytest.approx([0.3, 0.4, 0.4])
    assert json.loads(dataset["actions"][0])[0]["message"] == "abc"


def test_a_broken_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"env": "x"}\n{"not": "an episode"\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not an episode record"):
        list(iter_episodes(path))
