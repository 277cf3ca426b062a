"""Environments that run agent code need a sandbox; running them without one is a loud,
explicit choice (docs/rewards.md#serving-agent-code-without-a-sandbox)."""

from __future__ import annotations

import logging

import pytest
from coding_env.server.environment import CodingEnvironment
from echo_env.server.environment import EchoEnvironment
from terminal_env.server.environment import TerminalEnvironment

from openenv.client.launch import local_runtime
from openenv.discovery import find_environment, list_environments
from openenv.server import ServerConfig, create_app
from openenv.server.config import IsolationRequired
from tests.cli.helpers import assert_one_line_error, invoke
from tests.cli.test_serve_cmd import start, stop

AGENT_CODE = {"coding_env", "terminal_env"}


def test_every_shipped_environment_that_runs_agent_code_declares_it():
    declared = {
        info.name
        for info in list_environments()
        if info.name.endswith("_env") and find_environment(info.name).env_class.requires_sandbox
    }
    assert declared == AGENT_CODE


@pytest.mark.parametrize("env_class", [CodingEnvironment, TerminalEnvironment])
def test_create_app_picks_the_sandbox_and_refuses_none(env_class):
    assert create_app(env_class).state.config.isolation == "sandbox"
    with pytest.raises(IsolationRequired, match="needs isolation 'sandbox'"):
        create_app(env_class, config=ServerConfig(isolation="none"))


def test_the_explicit_opt_out_serves_and_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="openenv.server"):
        config = ServerConfig(isolation="none", unsandboxed_agent_code=True)
        app = create_app(CodingEnvironment, config=config)
    assert app.state.config.isolation == "none"
    assert "WITHOUT a sandbox" in caplog.text and "not protected" in caplog.text


def test_environments_without_agent_code_keep_their_default():
    assert create_app(EchoEnvironment).state.config.isolation == "none"


def test_openenv_serve_refuses_none_for_agent_code_and_says_how_to_opt_out():
    result = invoke("serve", "coding_env", "--isolation", "none", "--port", "0")
    assert result.exit_code == 1
    assert_one_line_error(
        result.stderr, "needs isolation 'sandbox'", "--allow-unsandboxed-agent-code"
    )


def test_openenv_serve_with_the_opt_out_warns_on_its_console():
    process, _ = start("terminal_env", "--isolation", "none", "--allow-unsandboxed-agent-code")
    out, err = stop(process)
    assert process.returncode == 0, err
    assert "isolation none" in out
    assert "WITHOUT a sandbox" in err


def test_launchers_refuse_none_before_starting_anything():
    with pytest.raises(IsolationRequired, match="--allow-unsandboxed-agent-code"):
        local_runtime("coding_env", isolation="none")
    runtime = local_runtime(
        "coding_env", isolation="none", server_args=["--allow-unsandboxed-agent-code"]
    )
    assert "--allow-unsandboxed-agent-code" in runtime.command()
