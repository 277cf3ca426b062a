"""``openenv serve`` settings: the warm-pool size (flag over openenv.yaml), and an
``openenv.yaml`` with a typo failing at start, naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import openenv.server
from openenv.runtime.base import RuntimeStartError
from openenv.runtime.local import LocalRuntime
from tests.cli.helpers import assert_one_line_error, invoke


def echo_folder(tmp_path: Path, extra: str = "") -> Path:
    folder = tmp_path / "pool_echo"
    folder.mkdir()
    (folder / "openenv.yaml").write_text(
        "name: pool_echo\nenvironment: echo_env.server.environment:EchoEnvironment\n"
        "isolation: none\n" + extra
    )
    return folder


class Stop(TypeError):
    """Raised by the stand-in create_app once it has seen the config (serve reports it)."""


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The ServerConfig ``openenv serve`` builds, without starting a server."""
    captured: dict[str, Any] = {}

    def fake_create_app(env_class: type, *, config: Any) -> None:
        captured["config"] = config
        raise Stop("stopped before serving")

    monkeypatch.setattr(openenv.server, "create_app", fake_create_app)
    return captured


def test_warm_pool_size_from_openenv_yaml(tmp_path: Path, seen: dict[str, Any]) -> None:
    result = invoke("serve", str(echo_folder(tmp_path, "warm_pool_size: 5\n")))
    assert "stopped before serving" in result.stderr
    assert seen["config"].warm_pool_size == 5


def test_warm_pool_size_flag_wins(tmp_path: Path, seen: dict[str, Any]) -> None:
    folder = echo_folder(tmp_path, "warm_pool_size: 5\n")
    invoke("serve", str(folder), "--warm-pool-size", "0")
    assert seen["config"].warm_pool_size == 0


def test_warm_pool_size_default(tmp_path: Path, seen: dict[str, Any]) -> None:
    invoke("serve", str(echo_folder(tmp_path)))
    assert seen["config"].warm_pool_size == 2


def test_negative_warm_pool_size_flag_is_refused(tmp_path: Path) -> None:
    result = invoke("serve", str(echo_folder(tmp_path)), "--warm-pool-size", "-1")
    assert result.exit_code == 2


def test_serve_with_a_typo_in_openenv_yaml(tmp_path: Path) -> None:
    folder = echo_folder(tmp_path, "sandbox:\n  limits:\n    memroy_mb: 512\n")
    result = invoke("serve", str(folder))
    assert result.exit_code == 1
    assert_one_line_error(
        result.stderr, "unknown key 'memroy_mb'", "did you mean 'memory_mb'?", "openenv.yaml"
    )


def test_local_runtime_of_a_folder_with_a_typo_fails_at_start(tmp_path: Path) -> None:
    runtime = LocalRuntime(echo_folder(tmp_path, "warm_pool_sise: 1\n"), start_timeout_s=30)
    with pytest.raises(RuntimeStartError, match=r"did you mean 'warm_pool_size'\?"):
        runtime.start()
    runtime.stop()
