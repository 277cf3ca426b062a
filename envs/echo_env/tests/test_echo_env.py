"""The echo environment: reward formula, episode length, tools, reproducibility, serving."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from echo_env import AsyncEchoEnv, EchoAction, EchoEnv, EchoObservation
from echo_env.server import EchoEnvironment
from echo_env.server.environment import length_reward

from openenv import State
from openenv.discovery import metadata_for
from openenv.server import create_app, uvicorn_config

# -- the environment in-process -----------------------------------------------------------


def test_reset():
    env = EchoEnvironment()
    obs = env.reset(seed=1, episode_id="e")
    assert isinstance(obs, EchoObservation)
    assert (obs.echoed_message, obs.message_length) == ("Echo environment ready!", 23)
    assert (obs.reward, obs.done) == (None, False)
    assert (env.state.episode_id, env.state.step_count) == ("e", 0)
    assert env.reset(greeting="hello").echoed_message == "hello"


@pytest.mark.parametrize("message", ["", "a", "hi", "hello world", "é" * 7, "x" * 1000])
def test_reward_is_a_tenth_per_character(message):
    env = EchoEnvironment()
    env.reset()
    obs = env.step(EchoAction(message=message))
    assert obs.echoed_message == message
    assert obs.message_length == len(message)
    assert obs.reward == pytest.approx(0.1 * len(message))
    assert length_reward(EchoAction(message=message), obs) == obs.reward


def test_episode_ends_after_max_steps():
    env = EchoEnvironment()
    env.reset()
    dones = [env.step(EchoAction(message="x")).done for _ in range(10)]
    assert dones == [False] * 9 + [True]
    env.reset(max_steps=3)
    assert [env.step(EchoAction(message="x")).done for _ in range(3)] == [False, False, True]
    assert env.state.step_count == 3
    with pytest.raises(ValueError, match="max_steps"):
        env.reset(max_steps=0)


def test_reset_starts_over():
    env = EchoEnvironment()
    env.reset(max_steps=2)
    env.step(EchoAction(message="a"))
    env.reset(max_steps=2)
    assert env.state.step_count == 0
    assert env.step(EchoAction(message="a")).done is False


def test_seeded_episodes_are_identical():
    def episode(seed: int) -> list[dict]:
        env = EchoEnvironment()
        observations = [env.reset(seed=seed, episode_id="same")]
        observations += [env.step(EchoAction(message=m)) for m in ("a", "bb", "ccc")]
        return [o.model_dump() for o in observations] + [env.state.model_dump(), env.rng.random()]

    assert episode(5) == episode(5)
    assert episode(5)[-1] != episode(6)[-1]  # different seed, different random stream


def test_reset_options_are_validated():
    model = EchoEnvironment.reset_options_model()
    assert model.model_validate({"max_steps": 4, "greeting": "hi"}).max_steps == 4
    for bad in ({"colour": "red"}, {"max_steps": "many"}, {"seed": "1"}, {"seed": True}):
        with pytest.raises(ValueError):
            model.model_validate(bad)


async def test_async_variants():
    env = EchoEnvironment()
    assert EchoEnvironment.runs_async("step_async")  # runs on the event loop, no thread hop
    assert (await env.reset_async(greeting="g")).echoed_message == "g"
    assert (await env.step_async(EchoAction(message="hey"))).reward == pytest.approx(0.3)


async def test_tools():
    tools = EchoEnvironment.tools()
    assert set(tools) == {"echo_message", "echo_with_length"}
    env = EchoEnvironment()
    assert await tools["echo_message"].call(env, {"message": "hi"}) == "hi"
    assert await tools["echo_with_length"].call(env, {"message": "hey"}) == {
        "message": "hey",
        "length": 3,
    }
    assert tools["echo_message"].input_schema["required"] == ["message"]


def test_models():
    with pytest.raises(ValueError):
        EchoAction()
    with pytest.raises(ValueError):
        EchoAction(message="x", extra=1)
    assert EchoObservation().model_dump() == {
        "done": False,
        "reward": None,
        "metadata": {},
        "echoed_message": "",
        "message_length": 0,
    }


def test_metadata_comes_from_openenv_yaml_and_the_package():
    meta = metadata_for(EchoEnvironment)
    assert meta.name == "echo_env"
    assert meta.description == "Echoes each message back; reward = 0.1 per character."
    assert meta.version == "0.1.0"  # the installed openenv-echo-env distribution's
    assert meta.author == "OpenEnv developers"
    assert meta.readme_content is not None and "echo" in meta.readme_content.lower()


# -- served --------------------------------------------------------------------------------


@pytest.fixture
def base_url() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(create_app(EchoEnvironment), port=port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()


def test_the_slides_code(base_url, capsys):
    client = EchoEnv(base_url=base_url)
    result = client.reset()
    result = client.step(EchoAction(message="hi"))
    print(result.observation.echoed_message, result.reward)
    client.close()
    assert capsys.readouterr().out == "hi 0.2\n"


def test_served_episode_and_tools(base_url):
    with EchoEnv(base_url=base_url) as client:
        client.reset(max_steps=2, episode_id="ep")
        assert client.step(EchoAction(message="abc")).reward == pytest.approx(0.3)
        assert client.step(EchoAction(message="abcd")).done is True
        assert client.state() == State(episode_id="ep", step_count=2)
        assert {t["name"] for t in client.list_tools()} == {"echo_message", "echo_with_length"}
        assert client.call_tool("echo_with_length", message="hello") == {
            "message": "hello",
            "length": 5,
        }


async def test_served_async(base_url):
    async with AsyncEchoEnv(base_url=base_url) as client:
        await client.reset(seed=1)
        assert (await client.step(EchoAction(message="hi"))).observation.echoed_message == "hi"
        assert await client.call_tool("echo_message", message="yo") == "yo"


def test_served_mcp_over_http(base_url):
    response = httpx.post(
        base_url + "/mcp",
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "echo_message", "arguments": {"message": "hi"}},
        },
        timeout=5,
    )
    assert response.json()["result"]["data"] == "hi"
