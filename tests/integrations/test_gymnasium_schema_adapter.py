"""to_gymnasium on environments without a spaces tool: spaces from their pydantic schemas."""

from __future__ import annotations

import warnings
from typing import Annotated, Any, Literal

import numpy as np
import pytest
from pydantic import BaseModel, Field

from openenv import Action, EnvClient, Environment, GenericEnvClient, Observation, State
from tests.conftest import wait_until

gymnasium = pytest.importorskip("gymnasium")
from gymnasium import spaces  # noqa: E402
from gymnasium.utils.env_checker import check_env  # noqa: E402

from openenv.integrations.gymnasium import (  # noqa: E402
    AnyText,
    NotGymnasiumCompatible,
    to_gymnasium,
    to_gymnasium_vector,
)


class Position(BaseModel):
    x: float
    y: Annotated[float, Field(ge=-1.0, le=1.0)]


class GridAction(Action):
    move: Literal["up", "down", "left", "right"]
    speed: Annotated[int, Field(ge=1, le=3)] = 1
    note: dict[str, Any] | None = None  # optional and unmappable: left out of the space


class GridObservation(Observation):
    cell: Annotated[int, Field(ge=0, le=15)] = 0
    position: Position = Position(x=0.0, y=0.0)
    distances: Annotated[list[float], Field(min_length=4, max_length=4)] = [0.0] * 4
    blocked: bool = False
    label: str = ""
    score: int = 0
    history: list[str] = []  # variable length: goes to info
    hint: str | None = None  # Optional: goes to info
    terminated: bool = False
    truncated: bool = False


class GridEnv(Environment[GridAction, GridObservation, State]):
    """A 4x4 grid; reaching cell 15 terminates, 20 steps truncate."""

    max_steps = 20

    def _reset(self, seed=None, episode_id=None, size: int = 4) -> GridObservation:
        self.cell = self.rng.randrange(8)
        return self._observe()

    def _step(self, action: GridAction, timeout_s=None) -> GridObservation:
        delta = {"up": -4, "down": 4, "left": -1, "right": 1}[action.move] * action.speed
        self.cell = min(15, max(0, self.cell + delta))
        obs = self._observe()
        obs.terminated = self.cell == 15
        obs.truncated = not obs.terminated and self.at_step_limit
        obs.done = obs.terminated  # at max_steps the base class sets done too
        obs.reward = 1.0 if obs.terminated else -0.1
        return obs

    def _observe(self) -> GridObservation:
        row, col = divmod(self.cell, 4)
        return GridObservation(
            cell=self.cell,
            position=Position(x=float(col), y=row / 3 * 2 - 1),
            distances=[float(row), float(3 - row), float(col), float(3 - col)],
            blocked=self.cell in (5, 6),
            label=f"cell {self.cell} ✓",
            score=self.state.step_count,
            history=[str(self.cell)] * self.state.step_count,
            hint="go down" if self.cell < 12 else None,
            metadata={"seed": self.seed},
        )


class GridClient(EnvClient[GridAction, GridObservation, State]):
    pass


def quiet_check(env) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env)


@pytest.fixture
def grid(serve):
    return serve(GridEnv).base_url


@pytest.mark.parametrize("client_class", [GridClient, GenericEnvClient])
def test_spaces_from_the_schemas(grid, client_class):
    env = to_gymnasium(client_class(base_url=grid))
    observation_space = env.observation_space
    assert isinstance(observation_space, spaces.Dict)
    assert list(observation_space) == [
        "cell",
        "position",
        "distances",
        "blocked",
        "label",
        "score",
    ]
    assert observation_space["cell"] == spaces.Discrete(16)
    assert observation_space["position"]["y"] == spaces.Box(-1.0, 1.0, (), np.float64)
    assert observation_space["distances"].shape == (4,)
    assert observation_space["blocked"] == spaces.Discrete(2)
    assert isinstance(observation_space["label"], AnyText)
    assert observation_space["score"].dtype == np.int64
    assert env.action_space == spaces.Dict(
        {"move": spaces.Discrete(4), "speed": spaces.Discrete(3, start=1)}
    )
    quiet_check(env)
    obs, info = env.reset(seed=3)
    assert set(info) == {"history", "hint", "metadata"} and info["metadata"] == {"seed": 3}
    obs, reward, _, _, info = env.step({"move": 1, "speed": np.int64(3)})
    assert obs["cell"] in observation_space["cell"] and reward in (1.0, -0.1)
    assert info["history"] == [str(int(obs["cell"]))]
    env.close()


def test_flags_and_rewards(grid):
    env = to_gymnasium(GridClient(base_url=grid))
    env.reset(seed=0)
    for _ in range(20):
        _, reward, terminated, truncated, _ = env.step({"move": 2, "speed": 1})  # left
        if terminated or truncated:
            break
    assert truncated and not terminated and reward == -0.1  # never reaches cell 15
    env.reset(seed=0)
    for move in (1, 1, 1, 3, 3, 3):  # down x3, right x3: cell 15
        _, reward, terminated, truncated, _ = env.step({"move": move, "speed": 1})
        if terminated:
            break
    assert terminated and reward == 1.0
    env.close()


def test_echo_env_maps_text_to_text(echo_server):
    from echo_env import EchoEnv

    env = to_gymnasium(EchoEnv(base_url=echo_server.base_url), max_text_length=16)
    assert isinstance(env.action_space, AnyText) and env.action_space.max_length == 16
    quiet_check(env)
    env.reset(seed=0)
    obs, reward, *_ = env.step("héllo wörld")
    assert obs["echoed_message"] == "héllo wörld" and reward == pytest.approx(1.1)
    env.close()


def test_the_vector_env_over_a_schema_mapped_env(serve):
    served = serve(GridEnv)
    envs = to_gymnasium_vector(lambda: GenericEnvClient(base_url=served.base_url), 3)
    obs, _ = envs.reset(seed=[1, 2, 3])
    assert obs["cell"].shape == (3,) and obs["distances"].shape == (3, 4)
    # One session per sub-env (its EnvPool's), not one more per client.
    wait_until(lambda: served.manager.active == 3)
    actions = {"move": np.array([1, 1, 1]), "speed": np.array([1, 2, 3])}
    obs, rewards, *_ = envs.step(actions)
    assert rewards.shape == (3,)
    envs.close()
    wait_until(lambda: served.manager.active == 0)


class FreeFormAction(Action):
    payload: dict[str, Any]


class FreeFormEnv(Environment[FreeFormAction, Observation, State]):
    def _reset(self, seed=None, episode_id=None) -> Observation:
        return Observation()

    def _step(self, action, timeout_s=None) -> Observation:
        return Observation()


def test_unmappable_environments_are_refused_clearly(serve):
    url = serve(FreeFormEnv).base_url
    with pytest.raises(NotGymnasiumCompatible, match="no field of Observation maps"):
        to_gymnasium(GenericEnvClient(base_url=url))


def test_custom_spaces(serve):
    url = serve(FreeFormEnv).base_url
    env = to_gymnasium(
        GenericEnvClient(base_url=url),
        observation_space=spaces.Discrete(1),
        action_space=spaces.Discrete(3),
        decode_observation=lambda observation: np.int64(0),
        encode_action=lambda action: {"payload": {"choice": int(action)}},
    )
    quiet_check(env)
    env.close()
    with pytest.raises(ValueError, match="both"):
        to_gymnasium(GenericEnvClient(base_url=url), observation_space=spaces.Discrete(1))


async def test_async_clients_are_refused(grid):
    from openenv import AsyncGenericEnvClient

    with pytest.raises(TypeError, match="sync client"):
        to_gymnasium(AsyncGenericEnvClient(base_url=grid))
