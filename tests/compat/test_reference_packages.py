"""OpenEnv 0.10 environment packages, served unchanged by our ``openenv serve``.

Two packages: one made by the reference's own ``openenv init`` (an echo env whose client
overrides ``_step_payload``/``_parse_result``/``_parse_state``), and a stateful game with
a rubric written here in the reference's style (``server/app.py`` gives ``create_app`` a
factory). Each is served from its folder by our CLI (a :class:`LocalRuntime`, which runs
``openenv serve FOLDER``) and driven by its own client twice: in our venv, where its
``openenv.core`` imports are ours, and in the reference's venv, where they are the
reference's. The reference's ``openenv validate`` accepts both, and our scaffold.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openenv.errors import EnvServerError
from openenv.runtime.local import LocalRuntime
from tests.cli.helpers import invoke

# The first test may create the reference venv (pip install; about a minute).
pytestmark = pytest.mark.timeout(600)


def reference_yaml(name: str, tag: str) -> str:
    """The openenv.yaml OpenEnv 0.10's ``openenv init`` writes, with its validation block."""
    return f"""
        spec_version: 1
        name: {name}
        version: 0.1.0
        type: space
        runtime: fastapi
        app: server.app:app
        port: 8000
        validation:
          reward:
            range: [0.0, 1.0]
            oracle_tolerance: 0.0
            floor_margin: 0.1
          resources:
            cpu: 1.0
            memory_mb: 1024
            disk_mb: 512
            episode_timeout_s: 60.0
          capabilities:
            verifier:
              kind: reward_channel
          types:
            tags: [{tag}]
    """


GUESS_FILES = {
    "__init__.py": """
        from .client import GuessEnv
        from .models import GuessAction, GuessObservation
    """,
    "models.py": """
        from pydantic import Field

        from openenv.core.env_server.types import Action, Observation


        class GuessAction(Action):
            guess: int = Field(..., ge=1, le=10)


        class GuessObservation(Observation):
            hint: str = ""
            attempts_left: int = 0
    """,
    "client.py": """
        from typing import Dict

        from openenv.core import EnvClient
        from openenv.core.client_types import StepResult
        from openenv.core.env_server.types import State

        from .models import GuessAction, GuessObservation


        class GuessEnv(EnvClient[GuessAction, GuessObservation, State]):
            def _step_payload(self, action: GuessAction) -> Dict:
                return {"guess": action.guess}

            def _parse_result(self, payload: Dict) -> StepResult[GuessObservation]:
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
                )

            def _parse_state(self, payload: Dict) -> State:
                return State(
                    episode_id=payload.get("episode_id"), step_count=payload.get("step_count", 0)
                )
    """,
    "server/__init__.py": "",
    "server/guess_environment.py": """
        import random
        from uuid import uuid4

        from openenv.core.env_server.interfaces import Environment
        from openenv.core.env_server.types import State
        from openenv.core.rubrics import Rubric

        try:
            from ..models import GuessAction, GuessObservation
        except ImportError:
            from models import GuessAction, GuessObservation


        class Found(Rubric):
            def forward(self, action, observation) -> float:
                return 1.0 if observation.hint == "correct" else 0.0


        class GuessEnvironment(Environment):
            SUPPORTS_CONCURRENT_SESSIONS = True

            def __init__(self):
                super().__init__(rubric=Found())
                self._state = State(episode_id=str(uuid4()), step_count=0)
                self._secret = 0

            def reset(self, seed=None, episode_id=None, **kwargs):
                self._reset_rubric()
                self._secret = random.Random(seed).randint(1, 10)
                self._state = State(episode_id=episode_id or str(uuid4()), step_count=0)
                return GuessObservation(hint="start", attempts_left=3)

            def step(self, action: GuessAction, timeout_s=None, **kwargs):
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
            def state(self):
                return self._state
    """,
    "server/app.py": """
        from openenv.core.env_server.http_server import create_app

        try:
            from ..models import GuessAction, GuessObservation
            from .guess_environment import GuessEnvironment
        except ImportError:
            from models import GuessAction, GuessObservation
            from server.guess_environment import GuessEnvironment


        def make_environment():
            return GuessEnvironment()


        app = create_app(
            make_environment, GuessAction, GuessObservation, env_name="ref_guess",
            max_concurrent_envs=4,
        )
    """,
    "openenv.yaml": reference_yaml("ref_guess", "game"),
}

# Drives each package with its own client, in whichever venv runs it; prints JSON.
DRIVER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from ref_echo import RefEchoAction, RefEchoEnv
from ref_guess import GuessAction, GuessEnv

urls, token = json.loads(sys.argv[2]), sys.argv[3]
headers = {"Authorization": f"Bearer {token}"}
out = {}
with RefEchoEnv(base_url=urls["ref_echo"], headers=headers).sync() as env:
    first = env.reset()
    step = env.step(RefEchoAction(message="hello"))
    out["echo"] = [first.observation.echoed_message, step.observation.echoed_message,
                   step.reward, step.observation.metadata, env.state().step_count]
with GuessEnv(base_url=urls["ref_guess"], headers=headers).sync() as env:
    seed, guesses = int(sys.argv[4]), json.loads(sys.argv[5])
    results = [env.reset(seed=seed)] + [env.step(GuessAction(guess=g)) for g in guesses]
    out["guess"] = [[r.observation.hint, r.reward, r.done] for r in results]
    out["guess_steps"] = env.state().step_count
print(json.dumps(out))
"""


def write_package(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())


@pytest.fixture(scope="module")
def packages(
    tmp_path_factory: pytest.TempPathFactory, reference_python: Path, reference_env: dict
) -> Path:
    root = tmp_path_factory.mktemp("reference_packages")
    made = subprocess.run(
        [str(reference_python.parent / "openenv"), "init", "ref_echo", "--output-dir", str(root)],
        capture_output=True,
        text=True,
        env=reference_env,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    write_package(root / "ref_guess", GUESS_FILES)
    return root


TOKEN = "compat-token"


@pytest.fixture(scope="module")
def served(packages: Path) -> Iterator[dict[str, str]]:
    """Base URLs of ``openenv serve FOLDER`` for each package (our CLI, its own process)."""
    runtimes = {name: LocalRuntime(packages / name, token=TOKEN) for name in PACKAGES}
    try:
        yield {name: runtime.start() for name, runtime in runtimes.items()}
    finally:
        for runtime in runtimes.values():
            runtime.stop()


PACKAGES = ("ref_echo", "ref_guess")
SEED = 7
SECRET = random.Random(SEED).randint(1, 10)
GUESSES = [SECRET % 10 + 1, SECRET]  # one wrong, then right


def run_driver(python: str, packages: Path, urls: dict[str, str], env: Any) -> dict[str, Any]:
    command = [python, "-c", DRIVER, str(packages), json.dumps(urls), TOKEN]
    command += [str(SEED), json.dumps(GUESSES)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stdout.strip(), done.stderr[-5000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_report(report: dict[str, Any]) -> None:
    assert report["echo"] == [
        "Ref Echo environment ready!",
        "hello",
        0.5,
        {"original_message": "hello", "step": 1},
        1,
    ]
    first, wrong, right = report["guess"]
    assert first[0] == "start" and first[2] is False
    assert wrong[0] in {"higher", "lower"} and wrong[1:] == [0.0, False]
    assert right == ["correct", 1.0, True]
    assert report["guess_steps"] == 2


def our_env() -> dict[str, str]:
    from tests.compat.conftest import subprocess_env

    env = subprocess_env()
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def test_their_own_clients_drive_them_under_our_openenv(
    packages: Path, served: dict[str, str]
) -> None:
    check_report(run_driver(sys.executable, packages, served, our_env()))


def test_their_own_clients_drive_them_under_the_reference(
    packages: Path, served: dict[str, str], reference_python: Path, reference_env: dict
) -> None:
    check_report(run_driver(str(reference_python), packages, served, reference_env))


def test_the_session_limit_of_their_create_app_holds(
    packages: Path, served: dict[str, str]
) -> None:
    from openenv import GenericEnvClient

    first = GenericEnvClient(base_url=served["ref_echo"], token=TOKEN)  # max_concurrent_envs=1
    second = GenericEnvClient(base_url=served["ref_echo"], token=TOKEN)
    try:
        first.reset()
        with pytest.raises(EnvServerError) as refused:
            second.reset()
        assert refused.value.code == "CAPACITY_REACHED"
    finally:
        first.close()
        second.close()


def test_our_clients_drive_them_and_our_rules_hold(packages: Path, served: dict[str, str]) -> None:
    from openenv import GenericEnvClient

    with GenericEnvClient(base_url=served["ref_guess"], token=TOKEN) as env:
        env.reset(seed=SEED)
        assert env.step({"guess": SECRET}).reward == 1.0
        with pytest.raises(EnvServerError) as over:  # an episode ends for good
            env.step({"guess": SECRET})
        assert over.value.code == "EPISODE_OVER"
        with pytest.raises(EnvServerError) as invalid:
            env.reset()
            env.step({"guess": 0})
        assert invalid.value.code == "VALIDATION_ERROR"


def test_a_reference_package_runs_sandboxed(packages: Path) -> None:
    """Each session in its own sandbox: the worker imports server/app.py first, where
    create_app gave the environment its types (``types_bound_in``)."""
    from openenv import GenericEnvClient

    runtime = LocalRuntime(packages / "ref_echo", isolation="sandbox", token=TOKEN)
    try:
        with GenericEnvClient(base_url=runtime.start(), token=TOKEN) as env:
            env.reset()
            result = env.step({"message": "boxed"})
        assert result.observation == {"echoed_message": "boxed", "message_length": 5}
        assert result.reward == 0.5
    finally:
        runtime.stop()


def reference_validate(reference_python: Path, folder: Path, env: dict) -> dict[str, Any]:
    command = [str(reference_python.parent / "openenv"), "validate", str(folder), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip(), done.stderr[-3000:]
    return json.loads(done.stdout)


def test_the_reference_validate_accepts_them_and_our_scaffold(
    packages: Path, reference_python: Path, reference_env: dict, tmp_path: Path
) -> None:
    result = invoke("init", "our_scaffold", "--output-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    for folder in (packages / "ref_echo", packages / "ref_guess", tmp_path / "our_scaffold"):
        report = reference_validate(reference_python, folder, reference_env)
        statuses = {r["check_id"]: r["status"] for r in report["results"]}
        assert statuses["static.manifest"] == "pass", (folder.name, report["results"][0])
        assert "fail" not in statuses.values(), (folder.name, statuses)


def test_our_validate_accepts_their_packages(packages: Path) -> None:
    """`openenv validate FOLDER` of ours loads an OpenEnv 0.10 package as `openenv serve`
    does (its app's environment, top-level `models`): static and contract checks pass,
    and the missing tests/ folder is a warning, not a failure."""
    from openenv.validation import validate

    for name, models in (("ref_echo", "RefEchoAction"), ("ref_guess", "GuessAction")):
        report = validate(str(packages / name)).to_dict()
        statuses = {check["name"]: check["status"] for check in report["checks"]}
        details = {check["name"]: check["detail"] for check in report["checks"]}
        assert report["ok"] is True, (name, statuses)
        assert statuses["openenv.yaml valid"] == "pass", details["openenv.yaml valid"]
        assert statuses["package importable"] == "pass", details["package importable"]
        assert statuses["models importable"] == "pass", details["models importable"]
        assert models in details["models importable"]
        assert statuses["tests present"] == "warn"
        assert {check["level"] for check in report["checks"]} == {0, 1}
