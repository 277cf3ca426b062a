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
from tests.conftest import Served, wait_until

pytestmark = pytest.mark.timeout(300)

TEXT_ENVS = [
    "echo_env",
    "wordle_env",
    "hangman_env",
    "guess_number_env",
    "coding_env",
    "terminal_env",
    "openspiel_env",
]
"""The shipped environments a text agent can play: each works with both of TRL's paths."""

SAY = "[cranes] [e] [50] print(1)"
"""Text every text env reads as some action (a guess, a letter, a number, code)."""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_lm(tmp_path_factory.mktemp("tiny"))


def client_class_of(name: str) -> type:
    """The env package's sync client class (``<Name>Env``)."""
    import importlib

    from openenv.discovery import find_environment

    found = find_environment(name)
    package = importlib.import_module(found.env_class.__module__.split(".")[0])
    (client,) = [
        getattr(package, n) for n in package.__all__ if n.endswith("Env") and "Async" not in n
    ]
    return client


@pytest.fixture(scope="module", params=TEXT_ENVS)
def text_env(request: pytest.FixtureRequest) -> Iterator[tuple[str, type, str]]:
    """(name, client class, URL) of a served text env (isolation from its openenv.yaml)."""
    from openenv.runtime.local import LocalRuntime

    runtime = LocalRuntime(request.param, require_token=False)
    try:
        yield request.param, client_class_of(request.param), runtime.start()
    finally:
        runtime.stop()


def parse_for(client_class: type) -> Callable[[str], Any] | None:
    """How text becomes an action where the action has no one text field (openspiel)."""
    try:
        text_field(client_class.action_type)
    except TypeError:
        return lambda text: client_class.action_type(action_id=0)
    return None


def test_the_factory_gives_typed_documented_tools(text_env: tuple[str, type, str]) -> None:
    """Every tool has the schema transformers reads (TRL's path), and acting scores."""
    from transformers.utils import get_json_schema

    _, client_class, url = text_env
    factory = environment_factory(client_class, url)
    environment = factory()
    action = tool_name(client_class.action_type)
    assert action in factory.tools
    for tool in factory.tools:
        schema = get_json_schema(getattr(environment, tool))
        assert schema["function"]["name"] == tool and schema["function"]["description"]
    opening = environment.reset(seed=3, prompt=[{"role": "user", "content": "x"}])
    assert isinstance(opening, str) and opening
    parse = parse_for(client_class)
    arguments = {text_field(client_class.action_type): SAY} if parse is None else {"action_id": 0}
    answer = getattr(environment, action)(**arguments)
    assert isinstance(answer, str) and answer and not answer.startswith("Invalid action")
    assert isinstance(environment.get_reward(), float)
    factory.close()


class FakeTrainer:
    """What RolloutFunction reads of a GRPOTrainer: the model and the tokenizer."""

    def __init__(self, path: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model = AutoModelForCausalLM.from_pretrained(path)
        self.processing_class = AutoTokenizer.from_pretrained(path)
        self.accelerator = self

    def unwrap_model(self, model: Any) -> Any:
        return model


def test_the_rollout_function_plays_episodes(text_env: tuple[str, type, str], tiny: Path) -> None:
    _, client_class, url = text_env
    with EnvPool(client_class, url, n=3) as pool:
        rollout = RolloutFunction(
            pool, max_turns=2, max_new_tokens=6, parse=parse_for(client_class)
        )
        output = rollout(["Play."] * 3, FakeTrainer(tiny))
    assert set(output) == {"prompt_ids", "completion_ids", "logprobs", "env_mask", "env_reward"}
    for key in ("prompt_ids", "completion_ids", "logprobs", "env_mask", "env_reward"):
        assert len(output[key]) == 3
    for ids, logprobs, mask in zip(
        output["completion_ids"], output["logprobs"], output["env_mask"], strict=True
    ):
        assert len(ids) == len(logprobs) == len(mask) and 1 in mask  # the model spoke
        assert all(lp <= 0 for lp, m in zip(logprobs, mask, strict=True) if m)
    assert all(isinstance(r, float) for r in output["env_reward"])


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
