"""``openenv validate``: a folder's static checks (level 0) and a URL's criteria."""

from __future__ import annotations

import json
import shutil
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI, WebSocket

from openenv.server import ServerConfig
from openenv.validation import validate
from openenv.validation_server import OPENENV_CRITERIA, OUR_CRITERIA, typed_errors
from tests.cli.helpers import invoke

TOKEN = "validate-s3cret"


def by_id(report: dict) -> dict[str, dict]:
    return {criterion["id"]: criterion for criterion in report["criteria"]}


# -- a folder: the package's static checks -------------------------------------------------------


def new_package(root: Path, name: str) -> Path:
    """A package as `openenv init NAME -o ROOT` makes it (it passes its own tests)."""
    result = invoke("init", name, "-o", str(root))
    assert result.exit_code == 0, result.stdout + result.stderr
    return root / name


def validate_folder(folder: Path, *args: str) -> tuple[int, dict]:
    result = invoke("validate", str(folder), "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def test_a_good_package_passes_every_static_check(tmp_path: Path) -> None:
    code, report = validate_folder(new_package(tmp_path, "vgood_env"))
    assert code == 0, report
    assert report["ok"] is True and report["passed"] is True
    assert report["validation_type"] == "local_environment"
    static = {c["name"]: c for c in report["checks"] if c["level"] == 0}
    assert list(static) == [
        "openenv.yaml valid",
        "package importable",
        "models importable",
        "tests present",
        "Dockerfile builds",
    ]
    assert [c["status"] for c in static.values()] == ["pass"] * 4 + ["skip"]
    assert static["models importable"]["detail"] == "VgoodAction, VgoodObservation"
    assert "pass --build" in static["Dockerfile builds"]["detail"]
    criteria = by_id(report)
    for cid in ("openenv_yaml_valid", "package_importable", "models_importable", "tests_present"):
        assert criteria[cid]["passed"] is True and criteria[cid]["required"] is True
    assert criteria["docker_build"]["required"] is False
    assert criteria["contract_checks"]["passed"] is True  # level 1 ran after level 0
    assert {c["level"] for c in report["checks"]} == {0, 1}


def test_a_folder_without_openenv_yaml_fails_that_check(tmp_path: Path) -> None:
    folder = new_package(tmp_path, "vnoyaml_env")
    (folder / "openenv.yaml").unlink()
    code, report = validate_folder(folder)
    assert code == 1
    assert report["failed_levels"] == [0] and report["passed"] is False
    criteria = by_id(report)
    assert criteria["openenv_yaml_valid"]["passed"] is False
    assert "no openenv.yaml in" in criteria["openenv_yaml_valid"]["details"]
    assert criteria["package_importable"]["passed"] is True  # found by the folder's name
    assert criteria["tests_present"]["passed"] is True
    [contract] = [c for c in report["checks"] if c["level"] == 1]
    assert contract["status"] == "skip" and "does not load" in contract["detail"]


def test_an_invalid_openenv_yaml_says_what_is_wrong(tmp_path: Path) -> None:
    folder = new_package(tmp_path, "vbadyaml_env")
    settings = folder / "openenv.yaml"
    settings.write_text(settings.read_text().replace("isolation:", "isolaton:"))
    code, report = validate_folder(folder)
    assert code == 1
    detail = by_id(report)["openenv_yaml_valid"]["details"]
    assert "unknown key 'isolaton'" in detail and "isolation" in detail


def test_a_broken_models_import_fails_the_models_check(tmp_path: Path) -> None:
    folder = new_package(tmp_path, "vbrokenmodels_env")
    models = folder / "vbrokenmodels_env" / "models.py"
    models.write_text(models.read_text() + "\nfrom openenv import NoSuchModel\n")
    code, report = validate_folder(folder)
    assert code == 1
    criteria = by_id(report)
    assert criteria["models_importable"]["passed"] is False
    detail = criteria["models_importable"]["details"]
    assert detail.startswith("cannot import vbrokenmodels_env.models: ImportError:"), detail
    assert "NoSuchModel" in detail
    assert criteria["openenv_yaml_valid"]["passed"] is True
    assert criteria["tests_present"]["passed"] is True
    assert "vbrokenmodels_env" not in sys.modules  # imported in a subprocess only


def test_models_without_an_action_type_fail(tmp_path: Path) -> None:
    folder = new_package(tmp_path, "vnoaction_env")
    (folder / "vnoaction_env" / "models.py").write_text("X = 1\n")
    _, report = validate_folder(folder)
    detail = by_id(report)["models_importable"]["details"]
    assert "defines no Action and no Observation subclass" in detail


def test_a_package_without_tests_fails_the_tests_check(tmp_path: Path) -> None:
    folder = new_package(tmp_path, "vnotests_env")
    shutil.rmtree(folder / "tests")
    code, report = validate_folder(folder)
    assert code == 1 and report["failed_levels"] == [0]
    criterion = by_id(report)["tests_present"]
    assert criterion["passed"] is False and "no tests/ folder in" in criterion["details"]
    assert by_id(report)["contract_checks"]["passed"] is True  # the rest still ran


def test_the_build_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openenv.validation_package import build_check

    folder = tmp_path

    def docker(build: bool) -> dict:
        check = build_check(folder, build)
        assert check.name == "Dockerfile builds" and check.id == "docker_build"
        return check.__dict__

    monkeypatch.setitem(sys.modules, "openenv.deploy.images", None)  # not importable
    assert docker(build=True)["status"] == "skip"
    assert docker(build=True)["detail"] == "skipped: openenv.deploy not available"

    built: list[Path] = []
    fake = types.ModuleType("openenv.deploy.images")
    fake.build_image = lambda env: built.append(env) or types.SimpleNamespace(tag="vbuild:1")
    monkeypatch.setitem(sys.modules, "openenv.deploy.images", fake)
    assert docker(build=False)["status"] == "skip" and built == []
    assert docker(build=True)["status"] == "pass" and built == [folder]
    assert docker(build=True)["detail"] == "built vbuild:1"

    def fails(env: Path) -> None:
        raise RuntimeError("step 3/5: pip install failed\nmore")

    fake.build_image = fails
    assert docker(build=True)["status"] == "fail"
    assert docker(build=True)["detail"] == "RuntimeError: step 3/5: pip install failed"


# -- a URL: OpenEnv's criteria and ours ------------------------------------------------------------


def test_a_url_report_has_the_reference_shape_and_our_criteria(echo_server) -> None:
    result = invoke("validate", echo_server.base_url, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    for key in ("target", "validation_type", "standard_version", "standard_profile", "mode"):
        assert key in report
    assert report["validation_type"] == "running_environment"
    assert report["standard_profile"] == "openenv-http/1.x" and report["mode"] == "simulation"
    assert report["passed"] is True and report["ok"] is True
    ids = [criterion["id"] for criterion in report["criteria"]]
    assert ids[:6] == list(OPENENV_CRITERIA)
    assert set(OUR_CRITERIA) <= set(ids)
    for criterion in report["criteria"]:
        assert {"id", "description", "passed", "required"} <= set(criterion)
        assert isinstance(criterion["passed"], bool)
    assert set(report["summary"]) == {
        "passed_count",
        "total_count",
        "failed_criteria",
        "required_passed_count",
        "required_total_count",
    }
    assert report["summary"]["total_count"] == len(ids)
    criteria = by_id(report)
    assert criteria["typed_errors"]["status"] == "pass"
    assert criteria["typed_errors"]["actual"]["invalid JSON"] == "INVALID_JSON"
    assert criteria["auth_enforced"]["status"] == "skip"
    assert "no token given" in criteria["auth_enforced"]["details"]
    assert criteria["concurrent_sessions_independent"]["status"] == "pass"
    assert criteria["reset_seed_reproducible"]["status"] == "pass"


def test_the_table_of_a_url_names_the_criteria(echo_server) -> None:
    result = invoke("validate", echo_server.base_url)
    assert result.exit_code == 0, result.stdout + result.stderr
    for cid in (*OPENENV_CRITERIA, "typed_errors", "auth_enforced"):
        assert cid in result.stdout


def test_auth_passes_on_a_server_that_wants_the_token(serve: Callable) -> None:
    from echo_env.server import EchoEnvironment

    guarded = serve(EchoEnvironment, ServerConfig(token=TOKEN))
    result = invoke("validate", guarded.base_url, "--json", "--token", TOKEN)
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["passed"] is True
    auth = by_id(report)["auth_enforced"]
    assert auth["status"] == "pass"
    assert auth["actual"]["GET /schema"] == {
        "no token": 401,
        "a wrong token": 401,
        "the token": 200,
    }
    assert auth["actual"]["WebSocket reset"]["the token"] == "observation"
    assert auth["actual"]["WebSocket reset"]["no token"].startswith("refused")


def test_the_token_comes_from_the_environment_too(
    serve: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    from echo_env.server import EchoEnvironment

    guarded = serve(EchoEnvironment, ServerConfig(token=TOKEN))
    monkeypatch.setenv("OPENENV_TOKEN", TOKEN)
    report = validate(guarded.base_url, contract=False).to_dict()
    assert by_id(report)["auth_enforced"]["status"] == "pass"
    assert all(by_id(report)[cid]["passed"] for cid in OPENENV_CRITERIA)


def test_without_the_token_a_guarded_server_fails_everything(serve: Callable) -> None:
    from echo_env.server import EchoEnvironment

    guarded = serve(EchoEnvironment, ServerConfig(token=TOKEN))
    report = validate(guarded.base_url).to_dict()
    assert report["passed"] is False and report["ok"] is False
    criteria = by_id(report)
    assert not any(criteria[cid]["passed"] for cid in OPENENV_CRITERIA)
    assert criteria["health_endpoint"]["actual"]["status_code"] == 401
    assert "HTTP 403" in criteria["typed_errors"]["details"]
    assert criteria["auth_enforced"]["status"] == "skip"


def test_auth_fails_on_a_server_that_ignores_the_token(echo_server) -> None:
    result = invoke("validate", echo_server.base_url, "--json", "--token", TOKEN)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["summary"]["failed_criteria"] == ["auth_enforced"]
    detail = by_id(report)["auth_enforced"]["details"]
    assert "GET /schema with no token answered 200, expected 401 or 403" in detail
    assert "a WebSocket session opened with no token" in detail


def test_typed_errors_fail_on_a_server_that_answers_anything() -> None:
    from tests.conftest import start_server

    app = FastAPI()
    app.state.config = ServerConfig(token=None)  # read by the background server

    @app.websocket("/ws")
    async def careless(ws: WebSocket) -> None:
        await ws.accept()
        while True:
            await ws.receive_text()
            await ws.send_json({"type": "observation", "data": {"observation": {}}})

    @app.post("/step")
    async def step() -> dict:
        raise RuntimeError("boom")

    served = start_server(app)
    try:
        check = typed_errors(served.base_url)
    finally:
        served.stop()
    assert check.status == "fail" and check.id == "typed_errors"
    assert "invalid JSON: answered 'observation', expected 'INVALID_JSON'" in check.detail
    assert "unknown message type: answered 'observation'" in check.detail
    assert "POST /step with a bad action: answered 500" in check.detail
