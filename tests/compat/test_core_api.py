"""``openenv.core``: OpenEnv 0.10's Python API on our classes, exercised in this process.

Environments and clients here are written the reference's way (its ``openenv init``
template: ``reset``/``step``/``state`` defined by the environment, which keeps its own
state; a client overriding ``_step_payload``/``_parse_result``/``_parse_state``).
``test_reference_packages.py`` serves whole packages and drives them with the
reference's own client; ``test_signatures.py`` pins the signatures to the reference's.
"""

from __future__ import annotations

import asyncio
import random
import socket
from typing import Any
from uuid import uuid4

import httpx
import pytest
from pydantic import Field

import openenv
from openenv.core import (
    EnvClient,
    GenericAction,
    GenericEnvClient,
    MCPToolClient,
    StepResult,
    SyncEnvClient,
)
from openenv.core.env_server import Action, Environment, Observation, State, create_app
from openenv.core.hub import is_hub_id, space_package
from openenv.core.rubrics import Rubric
from openenv.errors import ConfigError, ConnectError, EnvServerError
from tests.conftest import start_server


class GuessAction(Action):
    guess: int = Field(..., ge=1, le=10)


class GuessObservation(Observation):
    hint: str = ""
    attempts_left: int = 0


class Found(Rubric):
    def forward(self, action: Any, observation: Any) -> float:
        return 1.0 if observation.hint == "correct" else 0.0


class GuessEnvironment(Environment):
    """A stateful game in the reference's style: three guesses at a number from 1 to 10."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self) -> None:
        super().__init__(rubric=Found())
        self._state = State(episode_id=str(uuid4()), step_count=0)
        self._secret = 0

    def reset(self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any) -> Any:
        self._reset_rubric()
        self._secret = random.Random(seed).randint(1, 10)
        self._state = State(episode_id=episode_id or str(uuid4()), step_count=0)
        return GuessObservation(hint="start", attempts_left=3)

    def step(self, action: GuessAction) -> Any:  # type: ignore[override]
        self._state.step_count += 1
        if action.guess == self._secret:
            hint = "correct"
        else:
            hint = "higher" if action.guess < self._secret else "lower"
        left = 3 - self._state.step_count
        observation = GuessObservation(
            hint=hint, attempts_left=left, done=hint == "correct" or left == 0
        )
        observation.reward = self._apply_rubric(action, observation)
        return observation

    @property
    def state(self) -> State:
        return self._state


class GuessEnv(EnvClient[GuessAction, GuessObservation, State]):
    """The client the reference's template would generate for it."""

    def _step_payload(self, action: GuessAction) -> dict[str, Any]:
        return {"guess": action.guess}

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[GuessObservation]:
        data = payload.get("observation", {})
        observation = GuessObservation(
            hint=data.get("hint", ""),
            attempts_left=data.get("attempts_left", 0),
            done=payload.get("done", False),
            reward=payload.get("reward"),
        )
        return StepResult(
            observation=observation,
            reward=payload.get("reward"),
            done=payload.get("done", False),
            metadata=payload.get("metadata"),
        )

    def _parse_state(self, payload: dict[str, Any]) -> State:
        return State(episode_id=payload.get("episode_id"), step_count=payload.get("step_count", 0))


def secret_for(seed: int) -> int:
    return random.Random(seed).randint(1, 10)


@pytest.fixture(scope="module")
def guess_url() -> Any:
    app = create_app(
        GuessEnvironment, GuessAction, GuessObservation, env_name="guess", max_concurrent_envs=4
    )
    served = start_server(app)
    yield served.base_url
    served.stop()


# -- the environment, in process -------------------------------------------------------------


def test_a_reference_style_environment_keeps_its_own_state_and_the_episode_rules() -> None:
    env = GuessEnvironment()
    with pytest.raises(openenv.EpisodeNotStarted):
        env.step(GuessAction(guess=1))
    assert env.reset(seed=3).hint == "start"
    secret = secret_for(3)
    wrong = 1 if secret != 1 else 2
    observation = env.step(GuessAction(guess=wrong))
    assert (observation.reward, observation.done, env.state.step_count) == (0.0, False, 1)
    observation = env.step(GuessAction(guess=secret))
    assert (observation.reward, observation.done, env.state.step_count) == (1.0, True, 2)
    with pytest.raises(openenv.EpisodeOver):  # ours: an episode ends for good
        env.step(GuessAction(guess=secret))
    env.reset(seed=3)
    assert env.state.step_count == 0  # its own reset, counted once per step (not twice)


def test_its_types_come_from_create_app() -> None:
    create_app(GuessEnvironment, GuessAction, GuessObservation)
    assert GuessEnvironment.action_type is GuessAction
    assert GuessEnvironment.observation_type is GuessObservation


def test_create_app_refuses_types_that_contradict_the_class() -> None:
    class Other(Action):
        x: int = 0

    with pytest.raises(TypeError, match=r"GuessEnvironment\.action_type is GuessAction"):
        create_app(GuessEnvironment, Other, GuessObservation)


def test_a_factory_is_served_and_its_class_found() -> None:
    made: list[GuessEnvironment] = []

    def factory() -> GuessEnvironment:
        made.append(GuessEnvironment())
        return made[-1]

    from openenv.core.env_server.http_server import served_by

    app = create_app(factory, GuessAction, GuessObservation, max_concurrent_envs=2)
    served = served_by(app)
    assert served is not None and served.env_class is GuessEnvironment
    assert served.factory is factory and served.max_sessions == 2
    server = start_server(app)
    try:
        with GuessEnv(base_url=server.base_url).sync() as client:
            client.reset(seed=1)
        assert len(made) == 2  # one to find the class, one for the session
    finally:
        server.stop()


# -- the client: the reference's dispatch ---------------------------------------------------------


def play(client: Any, seed: int) -> list[StepResult[Any]]:
    results = [client.reset(seed=seed)]
    low, high = 1, 10
    while not results[-1].done:
        guess = (low + high) // 2
        results.append(client.step(GuessAction(guess=guess)))
        hint = results[-1].observation.hint
        low, high = (guess + 1, high) if hint == "higher" else (low, guess - 1)
    return results


def test_sync_view_plays_an_episode(guess_url: str) -> None:
    with GuessEnv(base_url=guess_url).sync() as client:
        assert isinstance(client, SyncEnvClient)
        results = play(client, seed=5)
        assert client.state().step_count == len(results) - 1
    final = results[-1]
    assert final.reward == (1.0 if final.observation.hint == "correct" else 0.0)
    assert all(r.reward == 0.0 for r in results[1:-1])


def test_plain_sync_code_gets_results_without_sync(guess_url: str) -> None:
    client = GuessEnv(base_url=guess_url)
    try:
        assert client.reset(seed=2).observation.hint == "start"
        assert client.state().step_count == 0
    finally:
        client.close()


def test_async_code_awaits_the_same_calls(guess_url: str) -> None:
    async def main() -> tuple[list[str], int]:
        async with GuessEnv(base_url=guess_url) as client:
            first = await client.reset(seed=secret_for(9))
            result = await client.step(GuessAction(guess=4))
            return [first.observation.hint, result.observation.hint], (
                await client.state()
            ).step_count

    hints, steps = asyncio.run(main())
    assert hints[0] == "start" and hints[1] in {"higher", "lower", "correct"} and steps == 1


def test_one_client_is_not_used_in_both_modes(guess_url: str) -> None:
    client = GuessEnv(base_url=guess_url)
    client.reset()

    async def then_async() -> None:
        await client.step(GuessAction(guess=1))

    with pytest.raises(RuntimeError, match="already being used in sync mode"):
        asyncio.run(then_async())
    client.close()


def test_generic_client_and_generic_action(guess_url: str) -> None:
    async def main() -> Any:
        async with GenericEnvClient(base_url=guess_url) as env:
            await env.reset(seed=1)
            return await env.step(GenericAction(guess=secret_for(1)))

    result = asyncio.run(main())
    assert result.observation == {"hint": "correct", "attempts_left": 2} and result.reward == 1.0
    assert GenericAction(guess=3) == {"guess": 3}


def test_our_sync_client_takes_sync_too(guess_url: str) -> None:
    with openenv.GenericEnvClient(base_url=guess_url).sync() as env:
        assert env.reset(seed=1).observation["hint"] == "start"


def test_bad_actions_are_refused_by_the_server_with_our_codes(guess_url: str) -> None:
    with GenericEnvClient(base_url=guess_url).sync() as env:
        env.reset()
        with pytest.raises(EnvServerError) as refused:
            env.step({"guess": 11})
        assert refused.value.code == "VALIDATION_ERROR"


def test_max_concurrent_envs_is_the_session_limit(guess_url: str) -> None:
    clients = [GenericEnvClient(base_url=guess_url).sync() for _ in range(5)]
    try:
        for client in clients[:4]:
            client.reset()
        with pytest.raises(EnvServerError) as refused:
            clients[4].reset()
        assert refused.value.code == "CAPACITY_REACHED"
    finally:
        for client in clients:
            client.close()


def test_constructor_errors_say_what_to_do() -> None:
    with pytest.raises(ConfigError, match="needs base_url"):
        GuessEnv()
    with pytest.raises(ConfigError, match="from_docker_image"):
        GuessEnv(base_url="http://127.0.0.1:9", provider=object())
    with pytest.raises(ConfigError, match="simulation mode"):
        GuessEnv(base_url="http://127.0.0.1:9", mode="production")


def test_mcp_tool_client_lists_and_calls_tools(serve: Any) -> None:
    from tests.envs_for_tests import ToyEnv

    served = serve(ToyEnv)

    async def main() -> tuple[list[str], Any, bool]:
        async with MCPToolClient(base_url=served.base_url) as env:
            tools = await env.list_tools()
            tool = tools[0]
            assert tool.input_schema["type"] == "object"
            return [t.name for t in tools], await env.get_tool(tool.name), await env.has_tool("x")

    names, tool, has_x = asyncio.run(main())
    assert names and tool is not None and tool.name == names[0] and has_x is False


# -- launchers ----------------------------------------------------------------------------------


def test_from_env_sync_starts_a_server_and_close_stops_it() -> None:
    from echo_env import EchoAction
    from echo_env.models import EchoObservation

    class Echo(EnvClient[EchoAction, EchoObservation, State]):
        pass

    client = Echo.from_env("echo_env").sync()
    runtime = client.async_client.runtime
    assert runtime is not None and runtime.health()
    client.reset()
    assert client.step(EchoAction(message="hi")).observation.echoed_message == "hi"
    client.close()
    assert not runtime.health()


def test_from_env_awaited() -> None:
    async def main() -> tuple[str, Any]:
        env = await GenericEnvClient.from_env("echo_env")
        try:
            await env.reset()
            result = await env.step({"message": "yo"})
            return result.observation["echoed_message"], env.runtime
        finally:
            await env.close()

    echoed, runtime = asyncio.run(main())
    assert echoed == "yo" and not runtime.health()


def test_a_bootstrap_is_resolved_once() -> None:
    bootstrap = EnvClient.from_env("no_such_env_here")
    with pytest.raises(openenv.errors.EnvironmentNotFound):
        bootstrap.sync()
    with pytest.raises(RuntimeError, match="already been resolved"):
        bootstrap.sync()


def test_auto_env_and_auto_action_by_name() -> None:
    from echo_env import EchoAction

    assert openenv.AutoAction.from_env("echo") is EchoAction
    assert openenv.AutoAction.from_env("echo-env") is EchoAction
    env = openenv.AutoEnv.from_env("echo")
    try:
        with env.sync() as client:
            client.reset()
            assert client.step(EchoAction(message="auto")).observation.echoed_message == "auto"
    finally:
        env.close()
    assert not env.runtime.health()
    info = openenv.AutoEnv.get_env_info("echo")
    assert info["name"] == "echo_env" and info["action_class"] == "EchoAction"


def test_hub_ids_are_told_from_names_and_folders(tmp_path: Any, monkeypatch: Any) -> None:
    assert is_hub_id("team/my-env")
    assert not is_hub_id("echo_env") and not is_hub_id("a/b/c") and not is_hub_id("/abs/path")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "team" / "env").mkdir(parents=True)
    assert not is_hub_id("team/env")  # a folder here wins


def test_a_space_that_cannot_be_downloaded_is_one_line(monkeypatch: Any) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(ConnectError, match="cannot download the Space team/nothing") as failed:
        space_package("team/nothing")
    assert "\n" not in str(failed.value)


def test_metadata_and_schema_of_a_reference_style_app(guess_url: str) -> None:
    assert httpx.get(f"{guess_url}/metadata").json()["name"] == "guess"
    schema = httpx.get(f"{guess_url}/schema").json()
    assert set(schema["action"]["properties"]) == {"guess", "metadata"}


# -- HTTPEnvServer: the reference's lower-level server object ---------------------------------


def test_http_env_server_serves_the_env_beside_the_authors_own_routes() -> None:
    from fastapi import FastAPI

    from openenv.core.env_server import HTTPEnvServer
    from openenv.core.env_server.http_server import served_by

    app = FastAPI()

    @app.get("/before")
    def before() -> dict[str, str]:
        return {"route": "before"}

    server = HTTPEnvServer(GuessEnvironment, GuessAction, GuessObservation, max_concurrent_envs=2)
    server.register_routes(app)

    @app.get("/health")  # declared after: the author's own route still comes first
    def own_health() -> dict[str, str]:
        return {"status": "the author's"}

    served = served_by(app)  # what `openenv serve FOLDER` reads from such an app
    assert served is not None and served.env_class is GuessEnvironment
    assert served.max_sessions == 2
    running = start_server(app)  # our lifespan runs inside the author's app's
    try:
        with httpx.Client(base_url=running.base_url) as http:
            assert http.get("/before").json() == {"route": "before"}
            assert http.get("/health").json() == {"status": "the author's"}
            assert http.get("/schema").json()["action"]["title"] == "GuessAction"
            assert http.post("/reset", json={"seed": 3}).status_code == 200
        with GuessEnv(base_url=running.base_url).sync() as client:
            results = play(client, seed=3)
        assert results[-1].done and results[-1].observation.hint in ("correct", "lower", "higher")
    finally:
        running.stop()


def test_production_mode_leaves_out_the_simulation_routes() -> None:
    from fastapi import FastAPI

    from openenv.core.env_server import HTTPEnvServer

    app = FastAPI()
    HTTPEnvServer(GuessEnvironment, GuessAction, GuessObservation).register_routes(
        app, mode="production"
    )
    running = start_server(app)
    try:
        with httpx.Client(base_url=running.base_url) as http:
            assert http.post("/reset", json={}).status_code == 404
            assert http.post("/step", json={"action": {"guess": 1}}).status_code == 404
            assert http.get("/state").status_code == 404
            assert http.get("/schema").status_code == 200
        with GuessEnv(base_url=running.base_url).sync() as client:  # sessions still work
            assert client.reset(seed=1).observation.hint == "start"
    finally:
        running.stop()
    with pytest.raises(ValueError, match="Invalid mode"):
        create_app(GuessEnvironment, GuessAction, GuessObservation, mode="staging")


def test_http_env_server_refuses_an_instance() -> None:
    from openenv.core.env_server import HTTPEnvServer

    with pytest.raises(TypeError, match="not an instance"):
        HTTPEnvServer(GuessEnvironment(), GuessAction, GuessObservation)  # type: ignore[arg-type]
