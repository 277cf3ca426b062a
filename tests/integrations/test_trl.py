"""openenv.integrations.trl: both of TRL's paths, against served environments, with a
tiny model made here (nothing downloaded)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("trl")

from openenv import EnvPool
from openenv.integrations.tiny_lm import make_tiny_lm
from openenv.integrations.trl import (
    RolloutFunction,
    env_reward,
    environment_factory,
    observation_text,
    text_field,
    tool_name,
)
from tests.conftest import Served, start_server, wait_until

pytestmark = pytest.mark.timeout(300)

TEXT_ENVS = ["echo_env", "wordle_env", "hangman_env", "guess_number_env"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_lm(tmp_path_factory.mktemp("tiny"))


def client_and_app(name: str) -> tuple[type, Any]:
    """The env's sync client class (``<Name>Env``) and an app serving it."""
    import importlib

    from openenv.discovery import find_environment
    from openenv.server import ServerConfig, create_app

    found = find_environment(name)
    package = importlib.import_module(found.env_class.__module__.split(".")[0])
    client = getattr(
        package,
        package.__all__[
            [n.endswith("Env") and not n.startswith("Async") for n in package.__all__].index(True)
        ],
    )
    return client, create_app(found.env_class, config=ServerConfig())


@pytest.mark.parametrize("name", TEXT_ENVS)
def test_the_factory_gives_typed_documented_tools(name: str) -> None:
    """Every tool has the schema transformers reads (TRL's path), and acting scores."""
    from transformers.utils import get_json_schema

    client_class, app = client_and_app(name)
    served = start_server(app)
    try:
        factory = environment_factory(client_class, served.base_url)
        environment = factory()
        action = tool_name(client_class.action_type)
        assert action in factory.tools
        for tool in factory.tools:
            schema = get_json_schema(getattr(environment, tool))
            assert schema["function"]["name"] == tool and schema["function"]["description"]
        opening = environment.reset(seed=3, prompt=[{"role": "user", "content": "x"}])
        assert isinstance(opening, str) and opening
        field = text_field(client_class.action_type)
        answer = getattr(environment, action)(**{field: "[cranes] [e] [50] hello"})
        assert isinstance(answer, str) and answer
        assert isinstance(environment.get_reward(), float)
        factory.close()
        wait_until(lambda: served.manager.active == 0)
    finally:
        served.stop()


def test_the_action_tool_acts_and_the_return_adds_up(serve: Callable[..., Served]) -> None:
    from echo_env import EchoEnv
    from echo_env.server import EchoEnvironment

    served = serve(EchoEnvironment)
    factory = environment_factory(EchoEnv, served.base_url)
    one, two = factory(), factory()
    assert "echo" in factory.tools
    one.reset(seed=1)
    two.reset(seed=2)
    assert "hello" in one.echo(message="hello")
    one.echo(message="abc")
    assert one.get_reward() == pytest.approx(0.8) and two.get_reward() == 0.0
    assert one.echo(message=3).startswith("Invalid action")  # type: ignore[arg-type]
    assert served.manager.active == 2  # one session per environment object
    one.reset(seed=1)
    assert one.get_reward() == 0.0  # a new episode
    served.stop()
    assert "unavailable" in two.echo(message="x")
    assert two.get_reward() is None  # the infrastructure broke it: no score, not 0
    factory.close()


def test_observation_text_prefers_the_prompt() -> None:
    assert observation_text({"prompt": "Guess a number", "low": 1}) == "Guess a number"
    assert json.loads(observation_text({"echoed_message": "hi", "reward": 1, "done": False})) == {
        "echoed_message": "hi"
    }


def grpo_args(tmp_path: Path, **overrides: Any) -> Any:
    from trl import GRPOConfig

    settings: dict[str, Any] = {
        "output_dir": str(tmp_path / "out"),
        "per_device_train_batch_size": 4,
        "num_generations": 4,
        "max_completion_length": 16,
        "max_steps": 2,
        "learning_rate": 1e-3,
        "logging_steps": 1,
        "report_to": "none",
        "use_cpu": True,
        "save_strategy": "no",
        "disable_tqdm": True,
    }
    settings.update(overrides)
    return GRPOConfig(**settings)


@pytest.fixture
def silent_trl(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TRL_EXPERIMENTAL_SILENCE", "1")
    yield


def test_grpo_with_the_environment_factory(
    tiny: Path, tmp_path: Path, serve: Callable[..., Served], silent_trl: None
) -> None:
    from datasets import Dataset
    from echo_env import EchoEnv
    from echo_env.server import EchoEnvironment
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOTrainer

    served = serve(EchoEnvironment)
    factory = environment_factory(EchoEnv, served.base_url)
    dataset = Dataset.from_list(
        [{"prompt": [{"role": "user", "content": "Echo something."}], "seed": s} for s in range(8)]
    )
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny),
        processing_class=AutoTokenizer.from_pretrained(tiny),
        args=grpo_args(tmp_path, max_tool_calling_iterations=2),
        train_dataset=dataset,
        environment_factory=factory,
    )
    trainer.train()
    logged = [h for h in trainer.state.log_history if "reward" in h]
    assert len(logged) == 2  # the environment's reward reached the trainer each step
    assert any(key.startswith("rewards/") for key in logged[0])
    assert served.manager.active >= 1
    factory.close()
    wait_until(lambda: served.manager.active == 0)


def test_grpo_with_the_rollout_function(
    tiny: Path, tmp_path: Path, serve: Callable[..., Served], silent_trl: None
) -> None:
    from datasets import Dataset
    from echo_env import EchoEnv
    from echo_env.server import EchoEnvironment
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOTrainer

    served = serve(EchoEnvironment)
    seen: list[list[float | None]] = []

    def reward(completions: list[Any], **kw: Any) -> Any:
        seen.append(list(kw["env_reward"]))
        return env_reward(completions, **kw)

    with EnvPool(EchoEnv, served.base_url, n=4) as pool:
        rollout = RolloutFunction(pool, max_turns=2, max_new_tokens=8)
        dataset = Dataset.from_list([{"prompt": "Say something."}] * 8)
        trainer = GRPOTrainer(
            model=AutoModelForCausalLM.from_pretrained(tiny),
            processing_class=AutoTokenizer.from_pretrained(tiny),
            reward_funcs=reward,
            args=grpo_args(tmp_path),
            train_dataset=dataset,
            rollout_func=rollout,
        )
        trainer.train()
        assert rollout.episodes == 8 and len(seen) == 2
        # echo pays 0.1 per character: what reached the reward function is the env's return
        assert all(r is not None and r >= 0 for batch in seen for r in batch)
        assert any(r > 0 for batch in seen for r in batch)
    wait_until(lambda: served.manager.active == 0)  # the pool closed every session
