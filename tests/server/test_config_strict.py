"""Configuration that says no: unknown keys name themselves and the nearest known one,
start-up checks what sessions would find out, and error messages name the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from openenv import Action, Environment, Observation, State
from openenv.discovery import InvalidSettings, find_environment, read_settings
from openenv.runtime.sandbox import SandboxLimits, SandboxPolicy, SandboxUnavailable, check_sandbox
from openenv.server import ServerConfig, create_app
from openenv.suggest import did_you_mean, unknown_keys_message
from tests.conftest import Served, ask, expect_error, open_ws


class GuessAction(Action):
    guess: str


class GuessObservation(Observation):
    hint: str = ""


class GuessEnv(Environment[GuessAction, GuessObservation, State]):
    """Guess a word; reset takes one option, ``limit``."""

    action_type = GuessAction
    observation_type = GuessObservation

    def _reset(
        self, seed: int | None = None, episode_id: str | None = None, limit: int = 5
    ) -> GuessObservation:
        return GuessObservation(hint="go")

    def _step(self, action: GuessAction, timeout_s: float | None = None) -> GuessObservation:
        return GuessObservation(hint=action.guess)


# -- the one helper -------------------------------------------------------------------


def test_did_you_mean() -> None:
    assert did_you_mean("memroy_mb", ["memory_mb", "cpu_seconds"]) == "memory_mb"
    assert did_you_mean("zzz", ["memory_mb"]) is None
    assert unknown_keys_message(["zzz"], ["a", "b"]) == "unknown key 'zzz' (known: a, b)"


# -- unknown keys -----------------------------------------------------------------------


def test_server_config_unknown_key() -> None:
    with pytest.raises(
        ValidationError, match=r"unknown key 'max_session'; did you mean 'max_sessions'\?"
    ):
        ServerConfig(max_session=4)  # type: ignore[call-arg]


def test_sandbox_limit_typo_names_the_real_field() -> None:
    with pytest.raises(
        ValidationError, match=r"unknown key 'memroy_mb'; did you mean 'memory_mb'\?"
    ):
        SandboxLimits(memroy_mb=512)  # type: ignore[call-arg]
    with pytest.raises(
        ValidationError, match=r"unknown key 'memroy_mb'; did you mean 'memory_mb'\?"
    ):
        ServerConfig(sandbox={"limits": {"memroy_mb": 512}})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"unknown key 'deni'; did you mean 'deny'\?"):
        SandboxPolicy(seccomp={"deni": []})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"'memory_mb' is a limit: put it under 'limits'"):
        SandboxPolicy(memory_mb=512)  # type: ignore[call-arg]


def write_folder(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "my_echo"
    folder.mkdir()
    (folder / "openenv.yaml").write_text(
        "name: my_echo\nenvironment: echo_env.server.environment:EchoEnvironment\n"
        "isolation: none\n" + extra
    )
    return folder


def test_openenv_yaml_unknown_key(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, "isolaton: sandbox\n")
    with pytest.raises(
        InvalidSettings, match=r"unknown key 'isolaton'; did you mean 'isolation'\?"
    ):
        read_settings(folder / "openenv.yaml")
    with pytest.raises(InvalidSettings, match=r"openenv.yaml: unknown key 'isolaton'"):
        find_environment(folder)


def test_openenv_yaml_sandbox_limit_typo(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, "sandbox:\n  limits:\n    memroy_mb: 512\n")
    with pytest.raises(
        InvalidSettings,
        match=r"sandbox.limits: unknown key 'memroy_mb'; did you mean 'memory_mb'\?",
    ):
        find_environment(folder)


def test_openenv_yaml_known_keys_and_own_settings_pass(tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path,
        "spec_version: 1\nversion: 0.1.0\ntype: space\nruntime: fastapi\napp: x:app\nport: 8000\n"
        "warm_pool_size: 3\nsandbox:\n  limits: {memory_mb: 512}\nsettings: {anything: 1}\n",
    )
    found = find_environment(folder)
    assert found.warm_pool_size == 3
    (tmp_path / "b").mkdir()
    with pytest.raises(InvalidSettings, match="warm_pool_size: -1 is negative"):
        find_environment(write_folder(tmp_path / "b", "warm_pool_size: -1\n"))


@pytest.mark.parametrize("name", ["coding_env", "terminal_env", "gym_env", "echo_env"])
def test_shipped_openenv_yaml_files_are_valid(name: str) -> None:
    root = Path(__file__).resolve().parents[2] / "envs" / name
    settings = read_settings(root / "openenv.yaml")
    if "sandbox" in settings:  # the limits are under limits:, so they take effect
        assert SandboxPolicy.model_validate(settings["sandbox"]).limits.memory_mb == 1024


def test_reset_option_typo() -> None:
    env = GuessEnv()
    with pytest.raises(
        ValidationError, match=r"unknown reset option 'limt'; did you mean 'limit'\?"
    ):
        env.reset(limt=3)
    with pytest.raises(
        ValidationError, match=r"unknown reset option 'sedd'; did you mean 'seed'\?"
    ):
        env.reset(sedd=3)
    assert env.reset(limit=3).hint == "go"


# -- start-up checks ----------------------------------------------------------------------


def test_create_app_refuses_a_class_the_worker_cannot_import() -> None:
    class LocalEnv(GuessEnv):
        pass

    config = ServerConfig(isolation="sandbox")
    with pytest.raises(TypeError, match="must be defined at module level"):
        create_app(LocalEnv, config=config)


def test_sandbox_read_only_path_must_exist(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-dataset")
    with pytest.raises(SandboxUnavailable, match=r"sandbox\.read_only: .*does not exist"):
        check_sandbox(SandboxPolicy(read_only=[missing]))
    with pytest.raises(SandboxUnavailable, match="not an absolute path"):
        check_sandbox(SandboxPolicy(read_only=["relative/path"]))
    config = ServerConfig(isolation="sandbox", sandbox=SandboxPolicy(read_only=[missing]))
    with pytest.raises(SandboxUnavailable, match="does not exist"):
        create_app(GuessEnv, config=config)


# -- error messages name the field ------------------------------------------------------------


@pytest.fixture
def guess_server(serve: Callable[..., Served]) -> Served:
    return serve(GuessEnv)


def test_websocket_errors_name_the_field(guess_server: Served) -> None:
    with open_ws(guess_server) as ws:
        ask(ws, {"type": "reset", "data": {}})
        data = expect_error(ask(ws, {"type": "step", "data": {"guess": 5}}), "VALIDATION_ERROR")
        assert data["message"] == "action.guess: Input should be a valid string"
        assert data["errors"][0]["loc"] == ["guess"]
        data = expect_error(ask(ws, {"type": "step", "data": {"gues": "a"}}), "VALIDATION_ERROR")
        assert "action.gues: unknown field; did you mean 'guess'?" in data["message"]
        frame = ask(ws, {"type": "reset", "data": {"limt": 2}})
        data = expect_error(frame, "VALIDATION_ERROR")
        assert "unknown reset option 'limt'; did you mean 'limit'?" in data["message"]
        data = expect_error(ask(ws, {"type": "reset", "data": {"limit": "x"}}), "VALIDATION_ERROR")
        assert data["message"].startswith("reset.limit: Input should be a valid integer")


def test_http_error_bodies_carry_message_and_code(guess_server: Served) -> None:
    base = guess_server.base_url

    def body(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
        assert response.status_code == status, response.text
        data = response.json()
        assert data["code"] == code and isinstance(data["message"], str) and "detail" in data
        return data

    data = body(httpx.post(f"{base}/step", json={"action": {"guess": 5}}), 422, "VALIDATION_ERROR")
    assert data["message"] == "action.guess: Input should be a valid string"
    assert data["detail"][0]["loc"] == ["guess"]  # pydantic's errors stay in detail
    data = body(httpx.post(f"{base}/reset", json={"limt": 1}), 422, "VALIDATION_ERROR")
    assert "did you mean 'limit'?" in data["message"]
    data = body(httpx.post(f"{base}/step", json={}), 422, "VALIDATION_ERROR")  # FastAPI's own
    assert data["message"] == "action: Field required"
    data = body(httpx.post(f"{base}/reset", json={"seed": "x"}), 422, "VALIDATION_ERROR")
    assert data["message"].startswith("seed: ")
    body(httpx.get(f"{base}/no-such-route"), 404, "NOT_FOUND")
    response = httpx.post(f"{base}/health")
    body(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["allow"]


def test_unauthorized_body_carries_message(serve: Callable[..., Served]) -> None:
    served = serve(GuessEnv, ServerConfig(token="s3cret"))
    response = httpx.get(f"{served.base_url}/schema")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "missing or wrong bearer token",
        "message": "missing or wrong bearer token",
        "code": "UNAUTHORIZED",
    }
