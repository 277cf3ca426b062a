"""``openenv push ENV``: a Docker Space, uploaded in one commit to a local Hub.

The Hub is a real HTTP server on 127.0.0.1 (:class:`tests.fake_hub.FakeHub`) that
answers what huggingface_hub calls to create a Space and commit files to it (and to
download one: see tests/compat/test_hub_spaces.py), and records what arrives.
``$HF_ENDPOINT`` points at it; huggingface.co is never contacted
(``HF_HUB_DISABLE_TELEMETRY`` keeps huggingface_hub from fetching its agent list
from the endpoint it read at import).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from openenv.deploy.push import push_space
from openenv.errors import PushError
from tests.deploy.conftest import OPENENV
from tests.fake_hub import TOKEN, USER, FakeHub, isolate_from_real_hub, serve


@pytest.fixture(autouse=True)
def _no_real_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_from_real_hub(monkeypatch)


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    yield from serve(monkeypatch)


@pytest.fixture
def refusing_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A Hub that answers 401 to every request (a revoked or mistyped token)."""
    yield from serve(monkeypatch, refuse_tokens=True)


def _front_matter(readme: bytes) -> dict[str, Any]:
    text = readme.decode()
    assert text.startswith("---\n"), text[:80]
    return yaml.safe_load(text.split("---\n", 2)[1])


def _cli_env(hub: FakeHub, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(
        HF_ENDPOINT=hub.url,
        HF_HOME=str(tmp_path / "hf-home"),  # no saved login
        HF_TOKEN_PATH=str(tmp_path / "hf-home" / "token"),
        HF_HUB_DISABLE_TELEMETRY="1",
        COLUMNS="200",
        **extra,
    )
    return env


def test_push_creates_a_docker_space_and_uploads_the_staged_files_in_one_commit(
    hub: FakeHub, tmp_path: Path
) -> None:
    pushed = push_space("echo_env", token=TOKEN, dest=tmp_path / "space")

    assert pushed.repo_id == f"{USER}/echo-env"  # whoami's name, env name with - for _
    assert pushed.url == f"{hub.url}/spaces/{USER}/echo-env"
    assert hub.created == [
        {
            "name": "echo-env",
            "organization": USER,
            "visibility": "public",
            "type": "space",
            "sdk": "docker",
        }
    ]
    assert len(hub.commits) == 1
    commit = hub.commits[0]
    assert commit.repo_id == pushed.repo_id
    assert pushed.commit == f"{1:040x}"

    staged = {
        path.relative_to(pushed.staged).as_posix(): path.read_bytes()
        for path in pushed.staged.rglob("*")
        if path.is_file()
    }
    assert sorted(staged) == list(pushed.files)
    assert commit.files == staged  # every staged file, byte for byte, nothing else
    for needed in ("Dockerfile", "README.md", "openenv.yaml", "wheels/deps/requirements.txt"):
        assert needed in commit.files
    for part in ("deps", "openenv", "env"):
        assert any(p.startswith(f"wheels/{part}/") and p.endswith(".whl") for p in commit.files)
    assert b"FROM ${BASE}" in commit.files["Dockerfile"]
    assert b"ARG BASE=python:3.11-slim" in commit.files["Dockerfile"]

    front = _front_matter(commit.files["README.md"])
    assert front["sdk"] == "docker"
    assert front["app_port"] == 8000
    assert "openenv" in front["tags"] and "echo_env" in front["tags"]
    assert front["title"] == "echo_env"
    assert front["short_description"].startswith("Echoes each message back")
    assert b"The smallest useful OpenEnv environment" in commit.files["README.md"]  # env's README

    # What huggingface_hub sent, in order: who am I, create, (validate, preupload), one commit.
    paths = [path for _, path in hub.calls]
    assert paths[:2] == ["/api/whoami-v2", "/api/repos/create"]
    assert paths[-1] == f"/api/spaces/{USER}/echo-env/commit/main"
    assert set(paths[2:-1]) <= {"/api/validate-yaml", f"/api/spaces/{USER}/echo-env/preupload/main"}
    assert set(hub.authorizations) == {f"Bearer {TOKEN}"}


def test_pushing_again_updates_the_space_and_private_is_sent(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)  # the token from the environment this time
    first = push_space("echo_env", repo_id="team/echo-space", private=True, dest=tmp_path / "a")
    second = push_space("echo_env", repo_id="team/echo-space", private=True, dest=tmp_path / "b")

    assert first.repo_id == second.repo_id == "team/echo-space"
    assert [c["organization"] for c in hub.created] == ["team", "team"]
    assert {c["visibility"] for c in hub.created} == {"private"}
    assert "/api/whoami-v2" not in [path for _, path in hub.calls]  # the owner was given
    assert [c.repo_id for c in hub.commits] == ["team/echo-space"] * 2  # the 409 was fine
    assert second.commit != first.commit


def test_cli_push_prints_the_space_url(hub: FakeHub, tmp_path: Path) -> None:
    done = subprocess.run(
        [OPENENV, "push", "echo_env", "--repo-id", "echo-cli", "-o", str(tmp_path / "space")],
        capture_output=True,
        text=True,
        env=_cli_env(hub, tmp_path, HF_TOKEN=TOKEN),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"{hub.url}/spaces/{USER}/echo-cli" in done.stdout
    assert len(hub.commits) == 1 and hub.commits[0].repo_id == f"{USER}/echo-cli"


def test_dry_run_stages_and_shows_the_tree_without_a_request(hub: FakeHub, tmp_path: Path) -> None:
    done = subprocess.run(
        [OPENENV, "push", "echo_env", "--dry-run", "-o", str(tmp_path / "space")],
        capture_output=True,
        text=True,
        env=_cli_env(hub, tmp_path, HF_TOKEN=TOKEN),  # a token, and still no request
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for shown in ("Dockerfile", "README.md", "openenv.yaml", "wheels/deps/", "wheels/openenv/"):
        assert shown in out, (shown, out)
    assert re.search(r"wheels/env/\S+\.whl", out), out
    assert re.search(r"wheels/deps/\s+\d+ wheels", out), out
    assert "sdk: docker" in out and "app_port: 8000" in out and "- openenv" in out
    assert "<user>/echo-env" in out
    assert (tmp_path / "space" / "README.md").is_file()
    assert hub.calls == []


def test_no_token_is_one_line_and_exit_code_1(hub: FakeHub, tmp_path: Path) -> None:
    done = subprocess.run(
        [OPENENV, "push", "echo_env"],
        capture_output=True,
        text=True,
        env=_cli_env(hub, tmp_path),
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: no Hugging Face token: set HF_TOKEN or run `hf auth login`"
    ]
    assert hub.calls == []


def test_a_refused_token_is_a_push_error_about_the_token(
    refusing_hub: FakeHub, tmp_path: Path
) -> None:
    with pytest.raises(PushError, match=r"refused the Hugging Face token \(401") as caught:
        push_space("echo_env", token="hf_revoked", dest=tmp_path / "space")
    assert "HF_TOKEN" in str(caught.value) and "\n" not in str(caught.value)
    assert refusing_hub.calls == [("GET", "/api/whoami-v2")]
    assert not (tmp_path / "space").exists()  # refused before anything was staged


def test_a_name_of_someone_else_is_a_push_error(hub: FakeHub, tmp_path: Path) -> None:
    hub.forbidden.add("someone/echo-env")
    with pytest.raises(PushError, match=r"403 forbidden.*another user or organization") as caught:
        push_space("echo_env", repo_id="someone/echo-env", token=TOKEN, dest=tmp_path / "s")
    assert "\n" not in str(caught.value)
    assert hub.commits == []


def test_an_endpoint_that_is_down_cannot_be_reached(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("HF_ENDPOINT", down)
    with pytest.raises(PushError, match=f"^cannot reach {re.escape(down)}: ") as caught:
        push_space("echo_env", token=TOKEN, dest=tmp_path / "space")
    assert "\n" not in str(caught.value)


def test_a_bad_repo_id_is_refused_before_any_request(hub: FakeHub) -> None:
    with pytest.raises(PushError, match="OWNER/NAME"):
        push_space("echo_env", repo_id="a/b/c", token=TOKEN)
    assert hub.calls == []


def test_registry_option_says_so_where_the_registry_module_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from openenv.cli.main import app

    monkeypatch.setitem(sys.modules, "openenv.deploy.registry", None)  # as if not installed
    result = CliRunner().invoke(app, ["push", "echo_env", "--registry", "127.0.0.1:5000/team"])
    assert result.exit_code == 1
    assert "error: pushing to a registry is not available" in result.output
