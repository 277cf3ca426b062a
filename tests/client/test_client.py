"""Client behaviour against real servers: typed, async, generic, replies, disconnects."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from echo_env import AsyncEchoEnv, EchoAction, EchoEnv, EchoObservation
from websockets.sync.server import ServerConnection
from websockets.sync.server import serve as ws_serve

from openenv import (
    AsyncEnvClient,
    AsyncGenericEnvClient,
    EnvClient,
    EnvServerError,
    GenericEnvClient,
    RequestTimeout,
    SessionLostError,
    State,
    ToolError,
)
from openenv.server import ServerConfig, create_app
from tests.conftest import free_socket, start_server, wait_until
from tests.envs_for_tests import AsyncToyEnv, Recorder, ToyAction, ToyEnv, ToyObservation, ToyState


class ToyClient(EnvClient[ToyAction, ToyObservation, ToyState]):
    pass


class AsyncToyClient(AsyncEnvClient[ToyAction, ToyObservation, ToyState]):
    pass


@pytest.fixture
def toy(serve):
    factory = Recorder(AsyncToyEnv)
    served = serve(factory, ServerConfig(step_timeout_s=5), env_class=AsyncToyEnv)
    served.factory = factory
    return served


# -- the slides' code and typed results -------------------------------------------------


def test_slide_code_verbatim(echo_server, capsys):
    client = EchoEnv(base_url=echo_server.base_url)
    result = client.reset()
    result = client.step(EchoAction(message="hi"))
    print(result.observation.echoed_message, result.reward)
    client.close()
    assert capsys.readouterr().out == "hi 0.2\n"


def test_typed_results(echo_server):
    with EchoEnv(base_url=echo_server.base_url) as client:
        reset = client.reset(seed=3, episode_id="ep-7", max_steps=2)
        assert isinstance(reset.observation, EchoObservation)
        assert reset.observation.echoed_message == "Echo environment ready!"
        assert reset.reward is None and reset.done is False
        first = client.step(EchoAction(message="hello"))
        assert first.reward == first.observation.reward == 0.5
        assert first.observation.message_length == 5
        second = client.step(EchoAction(message="bye"))
        assert second.done is second.observation.done is True
        state = client.state()
    assert isinstance(state, State)
    assert (state.episode_id, state.step_count) == ("ep-7", 2)


def test_extra_state_fields_and_metadata(toy):
    with ToyClient(base_url=toy.base_url) as client:
        reset = client.reset(seed=1, colour="red")
        assert reset.metadata == {"options": {"colour": "red"}}
        assert reset.observation.metadata == {"options": {"colour": "red"}}
        step = client.step(ToyAction(message="x"))
        state = client.state()
    assert isinstance(state, ToyState)
    assert state.draws == [step.observation.draw]


def test_seeded_resets_are_reproducible_through_the_client(toy):
    with ToyClient(base_url=toy.base_url) as client:
        runs = []
        for _ in range(2):
            client.reset(seed=99)
            runs.append([client.step(ToyAction()).observation.draw for _ in range(5)])
        client.reset(seed=100)
        other = [client.step(ToyAction()).observation.draw for _ in range(5)]
    assert runs[0] == runs[1] != other


def test_step_refuses_an_action_of_another_type(echo_server):
    with EchoEnv(base_url=echo_server.base_url) as client:
        client.reset()
        with pytest.raises(TypeError, match="takes EchoAction, got ToyAction"):
            client.step(ToyAction(message="x"))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="pydantic model or a dict"):
            client.step("hi")  # type: ignore[arg-type]
        assert client.step({"message": "dicts work too"}).observation.message_length == 14


async def test_async_client(echo_server):
    async with AsyncEchoEnv(base_url=echo_server.base_url) as client:
        result = await client.reset(seed=1)
        assert result.observation.echoed_message == "Echo environment ready!"
        result = await client.step(EchoAction(message="hi"))
        assert (result.observation.echoed_message, result.reward) == ("hi", 0.2)
        state = await client.state()
        assert state.step_count == 1
        tools = await client.list_tools()
        assert {t["name"] for t in tools} == {"echo_message", "echo_with_length"}
        assert await client.call_tool("echo_message", message="yo") == "yo"
    wait_until(lambda: not echo_server.sessions)


async def test_async_calls_on_one_client_are_serialised(toy):
    async with AsyncToyClient(base_url=toy.base_url) as client:
        await client.reset()
        results = await asyncio.gather(
            *(client.step(ToyAction(message=str(i), seconds=0.01)) for i in range(10))
        )
    assert [r.observation.echoed for r in results] == [str(i) for i in range(10)]
    assert [r.observation.step_count for r in results] == list(range(1, 11))


def test_generic_client(echo_server):
    with GenericEnvClient(base_url=echo_server.base_url) as env:
        reset = env.reset(max_steps=1)
        assert reset.observation == {
            "echoed_message": "Echo environment ready!",
            "message_length": 23,
        }
        step = env.step({"message": "hi"})
        assert step.observation == {"echoed_message": "hi", "message_length": 2}
        assert (step.reward, step.done) == (0.2, True)
        state = env.state()
        assert isinstance(state, dict) and state["step_count"] == 1
        assert env.call_tool("echo_with_length", message="abc") == {"message": "abc", "length": 3}


def test_generic_client_metadata_is_never_an_observation_field(toy):
    # The server sends metadata inside the observation and, when non-empty, beside it
    # (decision 0007): the generic client gives it as .metadata, whichever it was.
    with GenericEnvClient(base_url=toy.base_url) as env:
        reset = env.reset(colour="red")
        assert reset.metadata == {"options": {"colour": "red"}}
        assert "metadata" not in reset.observation
        step = env.step({"message": "x"})
        assert step.metadata == {}
        assert set(step.observation) == {"echoed", "step_count", "draw", "number"}


async def test_async_generic_client(echo_server):
    async with AsyncGenericEnvClient(base_url=echo_server.base_url) as env:
        await env.reset()
        step = await env.step({"message": "hey"})
        assert step.observation["echoed_message"] == "hey"
        assert (await env.state())["step_count"] == 1


def test_generic_clients_are_exported_from_openenv():
    import openenv

    assert openenv.GenericEnvClient is GenericEnvClient
    assert openenv.AsyncGenericEnvClient is AsyncGenericEnvClient


def test_base_url_forms(echo_server):
    for url in (
        echo_server.base_url,
        echo_server.base_url + "/",
        echo_server.ws_url,
        echo_server.base_url.replace("http://", ""),
    ):
        with GenericEnvClient(base_url=url) as env:
            assert env.reset().observation["message_length"] == 23


# -- errors ----------------------------------------------------------------------------


def test_server_errors_carry_their_code(echo_server):
    with GenericEnvClient(base_url=echo_server.base_url) as env:
        with pytest.raises(EnvServerError) as not_reset:
            env.step({"message": "x"})
        assert not_reset.value.code == "NOT_RESET"
        env.reset()
        with pytest.raises(EnvServerError) as invalid:
            env.step({"message": 5})
        assert invalid.value.code == "VALIDATION_ERROR"
        assert invalid.value.details["errors"][0]["loc"] == ["message"]
        assert "(code: VALIDATION_ERROR)" in str(invalid.value)
        with pytest.raises(EnvServerError) as bad_seed:
            env.reset(seed=-1)
        assert bad_seed.value.code == "VALIDATION_ERROR"
        # The session went on through all of it.
        assert env.step({"message": "ok"}).observation["echoed_message"] == "ok"


def test_execution_error(toy):
    with ToyClient(base_url=toy.base_url) as client:
        client.reset()
        with pytest.raises(EnvServerError) as failed:
            client.step(ToyAction(fail=True))
        assert failed.value.code == "EXECUTION_ERROR"
        assert failed.value.message.startswith("ValueError: the environment broke")
        assert client.step(ToyAction(message="after")).observation.echoed == "after"


def test_oversize_message_is_an_error_not_a_hang(serve):
    served = serve(ToyEnv, ServerConfig(max_message_bytes=2048))
    with ToyClient(base_url=served.base_url, message_timeout_s=5) as client:
        client.reset()
        with pytest.raises(EnvServerError) as too_big:  # a hang would raise a timeout
            client.step(ToyAction(message="x" * 3000))
        assert too_big.value.code == "MESSAGE_TOO_LARGE"
        assert client.step(ToyAction(message="small")).observation.echoed == "small"


def test_capacity_reached_is_reported_as_such(serve):
    served = serve(ToyEnv, ServerConfig(max_sessions=1))
    with ToyClient(base_url=served.base_url) as holder:
        holder.reset()
        client = ToyClient(base_url=served.base_url, message_timeout_s=5)
        with pytest.raises(EnvServerError) as full:
            client.reset()
        assert full.value.code == "CAPACITY_REACHED"
        assert full.value.details == {"active_sessions": 1, "max_sessions": 1}
    wait_until(lambda: not served.sessions)
    assert client.reset().observation.step_count == 0  # room again: a new session
    client.close()


async def test_async_capacity_reached_is_reported_as_such(serve):
    served = serve(ToyEnv, ServerConfig(max_sessions=1))
    async with AsyncToyClient(base_url=served.base_url) as holder:
        await holder.reset()
        client = AsyncToyClient(base_url=served.base_url, message_timeout_s=5)
        with pytest.raises(EnvServerError) as full:
            await client.reset()
        assert full.value.code == "CAPACITY_REACHED"
        await client.close()


def test_factory_error_is_reported(serve):
    factory = Recorder(ToyEnv)
    factory.fail_next = 1
    served = serve(factory, env_class=ToyEnv)
    client = ToyClient(base_url=served.base_url, message_timeout_s=5)
    with pytest.raises(EnvServerError) as failed:
        client.reset()
    assert failed.value.code == "FACTORY_ERROR"
    assert client.reset().observation.step_count == 0
    client.close()


def test_cannot_connect(serve):
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    client = GenericEnvClient(base_url=f"http://127.0.0.1:{port}", connect_timeout_s=2)
    with pytest.raises(ConnectionError, match="cannot connect"):
        client.reset()


# -- tools -----------------------------------------------------------------------------


def test_list_tools_and_call_tool(toy):
    with ToyClient(base_url=toy.base_url) as client:
        tools = {t["name"]: t for t in client.list_tools()}
        assert set(tools) == {"add", "explode", "not_json", "wait"}
        assert tools["add"]["description"] == "Add two integers."
        assert tools["add"]["inputSchema"]["required"] == ["a", "b"]
        assert client.call_tool("add", a=2, b=3) == 5
        assert client.call_tool("wait", seconds=0.01) == 0.01
        # Tools and steps share the session.
        client.reset()
        client.step(ToyAction())
        assert client.call_tool("add", a=1, b=1) == 2
        assert client.state().step_count == 1
    assert len(toy.factory.made) == 1


@pytest.mark.parametrize(
    ("name", "arguments", "match"),
    [
        ("explode", {}, "RuntimeError: tool exploded"),
        ("no_such_tool", {}, "Unknown tool"),
        ("add", {"a": "x", "b": 1}, "Invalid arguments for add"),
        ("add", {"a": 1}, "Invalid arguments for add"),
        ("not_json", {}, "not JSON"),
    ],
)
def test_tool_errors(toy, name, arguments, match):
    with ToyClient(base_url=toy.base_url) as client:
        with pytest.raises(ToolError, match=match):
            client.call_tool(name, **arguments)
        assert client.call_tool("add", a=1, b=2) == 3  # the session goes on


async def test_async_tool_error(toy):
    async with AsyncToyClient(base_url=toy.base_url) as client:
        with pytest.raises(ToolError, match="tool exploded"):
            await client.call_tool("explode")


# -- replies never reach the wrong request -------------------------------------------------


@pytest.mark.parametrize("late_reply_already_there", [True, False])
def test_late_reply_is_dropped_when_requests_have_ids(toy, late_reply_already_there):
    with ToyClient(base_url=toy.base_url, message_timeout_s=1.0) as client:
        assert client._core.extensions  # the server accepted the subprotocol
        client.reset()
        with pytest.raises(TimeoutError):
            client.step(ToyAction(message="slow", seconds=1.3))
        if late_reply_already_there:
            time.sleep(0.6)
        result = client.step(ToyAction(message="next"))
        assert result.observation.echoed == "next"
        assert result.observation.step_count == 2  # the slow step did finish on the server
        assert client.state().step_count == 2
    assert len(toy.factory.made) == 1  # same session throughout


async def test_async_late_reply_is_dropped_when_requests_have_ids(toy):
    async with AsyncToyClient(base_url=toy.base_url, message_timeout_s=1.0) as client:
        await client.reset()
        with pytest.raises(TimeoutError):
            await client.step(ToyAction(message="slow", seconds=1.3))
        assert (await client.step(ToyAction(message="next"))).observation.echoed == "next"
        with pytest.raises(TimeoutError):  # cancelled by the caller this time
            await asyncio.wait_for(client.step(ToyAction(message="slow", seconds=0.3)), 0.1)
        await asyncio.sleep(0.3)
        assert (await client.step(ToyAction(message="third"))).observation.echoed == "third"
        assert (await client.state()).step_count == 4
    assert len(toy.factory.made) == 1


class PlainServer:
    """A raw-websockets server that speaks the frames but not the extensions (no ids)."""

    def __init__(self) -> None:
        self.connections: list[ServerConnection] = []
        self.server = ws_serve(self.handle, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        steps = 0
        for raw in ws:
            message = json.loads(raw)
            data: dict[str, Any] = message.get("data") or {}
            assert "id" not in message and "timeout_s" not in message
            if message["type"] == "step":
                steps += 1
                time.sleep(data.get("seconds", 0))
            observation = {"echoed": data.get("message", ""), "step_count": steps}
            ws.send(
                json.dumps(
                    {
                        "type": "observation",
                        "data": {"observation": observation, "reward": 0, "done": False},
                    }
                )
            )

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def plain_server() -> Iterator[PlainServer]:
    server = PlainServer()
    yield server
    server.close()


def test_without_ids_a_timed_out_call_drops_the_session(plain_server):
    client = ToyClient(base_url=plain_server.url, message_timeout_s=0.3)
    client.reset()
    assert client._core.extensions is False
    with pytest.raises(TimeoutError):
        client.step(ToyAction(message="slow", seconds=0.8))
    # Its late reply could be taken for the next call's, so the session is gone.
    with pytest.raises(SessionLostError, match="reset"):
        client.step(ToyAction(message="next"))
    with pytest.raises(SessionLostError):
        client.state()
    result = client.reset()  # a new connection, a new session
    assert len(plain_server.connections) == 2
    assert result.observation.step_count == 0
    result = client.step(ToyAction(message="fresh"))
    assert (result.observation.echoed, result.observation.step_count) == ("fresh", 1)
    client.close()


async def test_async_without_ids_a_timed_out_call_drops_the_session(plain_server):
    client = AsyncToyClient(base_url=plain_server.url, message_timeout_s=0.3)
    await client.reset()
    with pytest.raises(TimeoutError):
        await client.step(ToyAction(message="slow", seconds=0.8))
    with pytest.raises(SessionLostError):
        await client.step(ToyAction(message="next"))
    await client.reset()
    result = await client.step(ToyAction(message="fresh"))
    assert (result.observation.echoed, result.observation.step_count) == ("fresh", 1)
    assert len(plain_server.connections) == 2
    await client.close()


def test_sync_and_async_clients_raise_the_same_errors(plain_server):
    # One mapping (openenv.client.core) for both: same types, same messages.
    def sync_messages() -> list[str]:
        client = ToyClient(base_url=plain_server.url, message_timeout_s=0.3)
        client.reset()
        seen = []
        with pytest.raises(RequestTimeout) as timeout:
            client.step(ToyAction(message="slow", seconds=0.8))
        seen.append(str(timeout.value))
        with pytest.raises(SessionLostError) as lost:
            client.step(ToyAction(message="next"))
        seen.append(str(lost.value))
        client.close()
        return seen

    async def async_messages() -> list[str]:
        client = AsyncToyClient(base_url=plain_server.url, message_timeout_s=0.3)
        await client.reset()
        seen = []
        with pytest.raises(RequestTimeout) as timeout:
            await client.step(ToyAction(message="slow", seconds=0.8))
        seen.append(str(timeout.value))
        with pytest.raises(SessionLostError) as lost:
            await client.step(ToyAction(message="next"))
        seen.append(str(lost.value))
        await client.close()
        return seen

    expected = [
        "no reply to step within 0.3 s",
        "session lost (no reply to step within 0.3 s); call reset() to start a new one",
    ]
    assert sync_messages() == expected
    assert asyncio.run(async_messages()) == expected
    assert issubclass(RequestTimeout, TimeoutError)  # `except TimeoutError` still catches it


def test_without_ids_replies_still_pair_in_order(plain_server):
    with ToyClient(base_url=plain_server.url) as client:
        client.reset()
        for i in range(5):
            assert client.step(ToyAction(message=str(i))).observation.echoed == str(i)


# -- disconnects -----------------------------------------------------------------------


def test_server_going_away_loses_the_session_and_reset_reconnects(serve):
    served = serve(ToyEnv)
    port = served.port
    client = ToyClient(base_url=served.base_url, connect_timeout_s=2)
    client.reset()
    client.step(ToyAction(message="before"))
    served.stop()
    with pytest.raises(SessionLostError, match=r"call reset\(\)"):
        client.step(ToyAction(message="x"))
    with pytest.raises(SessionLostError):
        client.step(ToyAction(message="x"))  # still lost: no silent new episode
    with pytest.raises(ConnectionError, match="cannot connect"):
        client.reset()  # nobody listening yet
    serve(ToyEnv, port=port)
    result = client.reset()
    assert result.observation.step_count == 0
    assert client.step(ToyAction(message="after")).observation.step_count == 1
    client.close()


async def test_async_server_going_away(serve):
    served = serve(ToyEnv)
    port = served.port
    client = AsyncToyClient(base_url=served.base_url, connect_timeout_s=2)
    await client.reset()
    served.stop()
    with pytest.raises(SessionLostError):
        await client.step(ToyAction(message="x"))
    serve(ToyEnv, port=port)
    await client.reset()
    assert (await client.step(ToyAction(message="after"))).observation.step_count == 1
    await client.close()


def test_session_reaped_by_the_server(serve):
    served = serve(ToyEnv, ServerConfig(idle_timeout_s=0.2))
    client = ToyClient(base_url=served.base_url)
    client.reset()
    wait_until(lambda: not served.sessions)
    with pytest.raises(SessionLostError, match="idle"):
        client.step(ToyAction())
    client.reset()
    assert client.step(ToyAction()).observation.step_count == 1
    client.close()


def test_server_side_timeout_then_session_lost(serve):
    served = serve(AsyncToyEnv, ServerConfig(step_timeout_s=0.2, timeout_grace_s=0))
    client = ToyClient(base_url=served.base_url)
    client.reset()
    with pytest.raises(EnvServerError) as timed_out:
        client.step(ToyAction(seconds=2))
    assert timed_out.value.code == "TIMEOUT"
    with pytest.raises(SessionLostError, match="timed out"):
        client.step(ToyAction())
    client.reset()
    assert client.step(ToyAction(seconds=0.01)).observation.step_count == 1
    client.close()


def test_step_timeout_is_sent_to_the_server(serve):
    factory = Recorder(AsyncToyEnv)
    served = serve(factory, ServerConfig(step_timeout_s=30), env_class=AsyncToyEnv)
    with ToyClient(base_url=served.base_url) as client:
        client.reset()
        client.step(ToyAction(), timeout_s=2.5)
        assert factory.made[0].last_timeout_s == 2.5
        with pytest.raises(EnvServerError) as timed_out:
            client.step(ToyAction(seconds=1), timeout_s=0.1)
        assert timed_out.value.code == "TIMEOUT"


def test_close_twice_and_use_after_close(toy):
    client = ToyClient(base_url=toy.base_url)
    client.reset()
    client.close()
    client.close()
    wait_until(lambda: not toy.sessions)
    with pytest.raises(SessionLostError, match="closed by the client"):
        client.step(ToyAction())
    client.reset()  # a new session
    assert client.step(ToyAction()).observation.step_count == 1
    client.close()
    wait_until(lambda: toy.factory.close_calls == [1, 1])


def test_connect_opens_the_session_eagerly(toy):
    client = ToyClient(base_url=toy.base_url).connect()
    wait_until(lambda: len(toy.sessions) == 1)
    client.close()
    wait_until(lambda: not toy.sessions)


def test_client_custom_headers_and_token(serve):
    served = serve(ToyEnv, ServerConfig(token="tok"))
    with ToyClient(base_url=served.base_url, headers={"Authorization": "Bearer tok"}) as client:
        client.reset()
    with ToyClient(base_url=served.base_url, token="tok") as client:
        assert client.reset().observation.step_count == 0
    with pytest.raises(ConnectionError, match="403"):
        ToyClient(base_url=served.base_url).reset()


def test_many_clients_at_once(toy):
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            with ToyClient(base_url=toy.base_url) as client:
                client.reset(seed=i)
                for j in range(10):
                    result = client.step(ToyAction(message=f"{i}-{j}"))
                    assert result.observation.echoed == f"{i}-{j}"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    wait_until(lambda: not toy.sessions)


def test_start_server_helper_serves_an_app():
    from openenv.server import create_app

    served = start_server(create_app(ToyEnv))
    try:
        with ToyClient(base_url=served.base_url) as client:
            assert client.reset().observation.step_count == 0
    finally:
        served.stop()


@pytest.mark.timeout(120)
def test_ctrl_c_reaches_a_waiting_step_even_when_another_thread_takes_the_signal() -> None:
    """The kernel may hand a process's SIGINT to any thread; Python runs the handler in
    the main thread only when it next wakes. A step waiting for its reply must wake
    often enough to raise KeyboardInterrupt (seen in CI: a 60 s hang under load)."""
    import signal

    served = start_server(create_app(AsyncToyEnv, config=ServerConfig()))
    helper_failed: list[BaseException] = []
    try:
        with ToyClient(base_url=served.base_url, message_timeout_s=600) as client:
            client.reset()

            def interrupt_from_another_thread() -> None:
                try:
                    wait_until(
                        lambda: (
                            served.manager.active == 1
                            and any(
                                s.env.steps_started for s in list(served.manager.sessions.values())
                            )
                        ),
                        timeout=60,
                    )
                except BaseException as exc:  # said below, not lost in this thread
                    helper_failed.append(exc)
                signal.pthread_kill(threading.get_ident(), signal.SIGINT)

            threading.Thread(target=interrupt_from_another_thread, daemon=True).start()
            with pytest.raises(KeyboardInterrupt):
                client.step(ToyAction(message="slow", seconds=300))
            assert not helper_failed, f"the step never started on the server: {helper_failed}"
    finally:
        served.stop()
