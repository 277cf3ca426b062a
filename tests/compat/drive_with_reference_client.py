"""Drive one of OUR servers with the REFERENCE OpenEnv client (``openenv==0.10.0``).

Run by the reference virtual environment's Python, never ours (both packages are
called ``openenv``)::

    /path/to/refvenv/bin/python drive_with_reference_client.py \
        --url URL --capacity-url URL2 --metadata-url URL3

``--url`` serves our echo env; ``--capacity-url`` serves it with ``max_sessions=1``;
``--metadata-url`` serves echo that also returns observation metadata.
Every scenario runs on its own and records what happened (results, the exact
frames exchanged, or the exception); the whole report is printed as one JSON
object on the last line of stdout. ``tests/compat/test_reference_client.py``
asserts on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import traceback
from typing import Any

from openenv.cli._validation import validate_running_environment

from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient
from openenv.core.env_server.mcp_types import (
    CallToolAction,
    CallToolObservation,
    ListToolsAction,
    ListToolsObservation,
    WSMCPResponse,
)
from openenv.core.env_server.types import (
    Action,
    Observation,
    State,
    WSErrorResponse,
    WSObservationResponse,
    WSStateResponse,
)
from openenv.core.generic_client import GenericEnvClient
from openenv.core.mcp_client import MCPToolClient

TIMEOUT_S = 10.0
RESPONSE_MODELS = {
    "observation": WSObservationResponse,
    "state": WSStateResponse,
    "error": WSErrorResponse,
    "mcp": WSMCPResponse,
}


# -- a typed client, written the way OpenEnv's env packages write theirs ---------------


class EchoAction(Action):
    message: str


class EchoObservation(Observation):
    echoed_message: str = ""
    message_length: int = 0


class EchoEnv(EnvClient[EchoAction, EchoObservation, State]):
    def _step_payload(self, action: EchoAction) -> dict[str, Any]:
        return {"message": action.message}

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[EchoObservation]:
        # Strict on purpose: EchoObservation forbids unknown fields, so a server that
        # puts anything else into the observation payload breaks this client.
        observation = EchoObservation(
            **payload.get("observation", {}),
            reward=payload.get("reward"),
            done=payload.get("done", False),
        )
        return StepResult(
            observation=observation,
            reward=payload.get("reward"),
            done=payload.get("done", False),
            metadata=payload.get("metadata"),
        )

    def _parse_state(self, payload: dict[str, Any]) -> State:
        return State(**payload)


class UpstreamStyleEchoEnv(EchoEnv):
    """Parses results field by field, as most OpenEnv env clients do: ``metadata`` is
    read from inside the observation payload, where the reference server puts it."""

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[EchoObservation]:
        obs_data = payload.get("observation", {})
        observation = EchoObservation(
            echoed_message=obs_data.get("echoed_message", ""),
            message_length=obs_data.get("message_length", 0),
            done=payload.get("done", False),
            reward=payload.get("reward"),
            metadata=obs_data.get("metadata", {}),
        )
        return StepResult(
            observation=observation,
            reward=payload.get("reward"),
            done=payload.get("done", False),
        )


class RecordingClient(GenericEnvClient):
    """GenericEnvClient that keeps every frame it sends and receives."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []

    async def _send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        await super()._send(message)

    async def _receive(self) -> dict[str, Any]:
        frame = await super()._receive()
        self.received.append(frame)
        return frame


def error_text(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc)}


def check_frames(frames: list[dict[str, Any]]) -> list[str]:
    """Problems found validating each frame against the reference's response models."""
    problems = []
    for frame in frames:
        model = RESPONSE_MODELS.get(frame.get("type"))
        if model is None:
            problems.append(f"unknown frame type in {frame!r}")
            continue
        try:
            model.model_validate(frame)
        except Exception as exc:
            problems.append(f"{frame!r}: {exc}")
    return problems


def observation_dict(result: StepResult[Any]) -> dict[str, Any]:
    observation = result.observation
    if hasattr(observation, "model_dump"):
        observation = observation.model_dump()
    return {
        "observation": observation,
        "reward": result.reward,
        "done": result.done,
        "metadata": result.metadata,
    }


# -- scenarios -----------------------------------------------------------------------


def typed_sync(url: str) -> dict[str, Any]:
    """The typed client through ``.sync()``, as OpenEnv's docs show."""
    out: dict[str, Any] = {}
    with EchoEnv(base_url=url, message_timeout_s=TIMEOUT_S).sync() as env:
        out["reset"] = observation_dict(env.reset(seed=42, episode_id="ref-episode-1"))
        out["steps"] = [
            observation_dict(env.step(EchoAction(message=m))) for m in ("hi", "hello world")
        ]
        out["state"] = env.state().model_dump()
    return out


def typed_auto_sync(url: str) -> dict[str, Any]:
    """The typed client called directly from sync code (0.10 dispatches it itself)."""
    env = EchoEnv(base_url=url, message_timeout_s=TIMEOUT_S)
    try:
        reset = env.reset()
        step = env.step(EchoAction(message="abc"))
        state = env.state()
        return {
            "reset": observation_dict(reset),
            "step": observation_dict(step),
            "state": state.model_dump(),
        }
    finally:
        env.close()


def generic_frames(url: str) -> dict[str, Any]:
    """GenericEnvClient (sync, as a context manager), recording the exact frames."""
    client = RecordingClient(base_url=url, message_timeout_s=TIMEOUT_S)
    with client:
        reset = client.reset(seed=7, episode_id="generic-1", max_steps=2)
        # A reference Action model is sent via model_dump(): it carries "metadata".
        step1 = client.step(EchoAction(message="four"))
        step2 = client.step({"message": "done now"})
        state = client.state()
    return {
        "reset": observation_dict(reset),
        "steps": [observation_dict(step1), observation_dict(step2)],
        "state": state,
        "sent": client.sent,
        "received": client.received,
        "frame_problems": check_frames(client.received),
    }


def generic_async(url: str) -> dict[str, Any]:
    """GenericEnvClient used asynchronously (``async with``, ``await``)."""

    async def run() -> dict[str, Any]:
        async with GenericEnvClient(base_url=url, message_timeout_s=TIMEOUT_S) as env:
            reset = await env.reset(episode_id="async-1")
            step = await env.step({"message": "async"})
            state = await env.state()
        return {"reset": observation_dict(reset), "step": observation_dict(step), "state": state}

    return asyncio.run(run())


def errors(url: str) -> dict[str, Any]:
    """Bad requests: each one raises in the reference client; the session goes on."""
    out: dict[str, Any] = {}
    client = RecordingClient(base_url=url, message_timeout_s=TIMEOUT_S)
    with client:
        try:
            client.step({"message": "before any reset"})
            out["step_before_reset"] = "no error"
        except Exception as exc:
            out["step_before_reset"] = error_text(exc)
        client.reset()
        for name, action in (
            ("bad_action", {"nope": 1}),
            ("wrong_type", {"message": 123}),
        ):
            try:
                client.step(action)
                out[name] = "no error"
            except Exception as exc:
                out[name] = error_text(exc)
        try:
            client._run_sync(lambda: client._send_and_receive({"type": "bogus"}))
            out["unknown_type"] = "no error"
        except Exception as exc:
            out["unknown_type"] = error_text(exc)
        out["after_errors"] = observation_dict(client.step({"message": "still here"}))
    out["received"] = client.received
    out["frame_problems"] = check_frames(client.received)
    return out


def mcp_step_style(url: str) -> dict[str, Any]:
    """MCPToolClient's step-style tool calls over /ws (its non-production path)."""
    out: dict[str, Any] = {}
    client = MCPToolClient(base_url=url, message_timeout_s=TIMEOUT_S)
    # 0.10 defaults MCPToolClient to production mode (HTTP /mcp + openenv/session/*);
    # switching this flag off selects its WebSocket step-style path, the default of
    # older OpenEnv clients.
    client.use_production_mode = False
    with client.sync() as env:
        tools = env.list_tools(use_cache=False)
        out["tools"] = [t.model_dump() for t in tools]
        out["echo_message"] = env.call_tool("echo_message", message="Hello!")
        out["echo_with_length"] = env.call_tool("echo_with_length", message="Test")
        try:
            env.call_tool("no_such_tool", message="x")
            out["unknown_tool"] = "no error"
        except Exception as exc:
            out["unknown_tool"] = error_text(exc)
        result = env.step(CallToolAction(tool_name="echo_message", arguments={"message": "raw"}))
        obs = result.observation
        out["raw_call"] = {
            "is_call_tool_observation": isinstance(obs, CallToolObservation),
            "observation": obs.model_dump(mode="json"),
            "reward": result.reward,
            "done": result.done,
        }
        # Tools work after a reset, and the episode is not disturbed by tool calls.
        env.reset(episode_id="mcp-1")
        out["after_reset"] = env.call_tool("echo_message", message="again")
        out["state"] = env.state().model_dump()
        listed = env.step(ListToolsAction())
        out["list_is_list_tools_observation"] = isinstance(listed.observation, ListToolsObservation)
    return out


def mcp_ws_envelope(url: str) -> dict[str, Any]:
    """The {"type": "mcp"} WebSocket envelope (the reference server accepts it too)."""
    client = RecordingClient(base_url=url, message_timeout_s=TIMEOUT_S)
    with client:
        listed = client._run_sync(
            lambda: client._send_and_receive(
                {"type": "mcp", "data": {"jsonrpc": "2.0", "id": 11, "method": "tools/list"}}
            )
        )
        called = client._run_sync(
            lambda: client._send_and_receive(
                {
                    "type": "mcp",
                    "data": {
                        "jsonrpc": "2.0",
                        "id": "call-12",
                        "method": "tools/call",
                        "params": {"name": "echo_with_length", "arguments": {"message": "xyz"}},
                    },
                }
            )
        )
    return {"list": listed, "call": called, "frame_problems": check_frames(client.received)}


def mcp_http(url: str) -> dict[str, Any]:
    """POST /mcp with the exact requests MCPToolClient's production mode sends."""

    async def run() -> dict[str, Any]:
        client = MCPToolClient(base_url=url, message_timeout_s=TIMEOUT_S)
        request = client._production_mcp_request
        try:
            listed = await request("tools/list")
            called = await request(
                "tools/call", {"name": "echo_with_length", "arguments": {"message": "Test"}}
            )
            unknown = await request("tools/call", {"name": "no_such_tool", "arguments": {}})
            # OpenEnv's session methods, one request at a time.
            create = await request("openenv/session/create")
            session_id = create.get("result", {}).get("session_id")
            in_session = await request(
                "tools/call",
                {
                    "name": "echo_message",
                    "arguments": {"message": "in session"},
                    "session_id": session_id,
                },
            )
            listed_in_session = await request("tools/list", {"session_id": session_id})
            close = await request("openenv/session/close", {"session_id": session_id})
            close_again = await request("openenv/session/close", {"session_id": session_id})
            after_close = await request(
                "tools/call",
                {"name": "echo_message", "arguments": {"message": "x"}, "session_id": session_id},
            )
            close_without_id = await request("openenv/session/close")
            return {
                "list": listed,
                "call": called,
                "unknown_tool": unknown,
                "session_create": create,
                "session_id": session_id,
                "call_in_session": in_session,
                "list_in_session": listed_in_session,
                "session_close": close,
                "session_close_again": close_again,
                "call_after_close": after_close,
                "close_without_id": close_without_id,
                "last_request_id": client._jsonrpc_request_id,
            }
        finally:
            if client._http_client is not None:
                await client._http_client.aclose()

    return asyncio.run(run())


def session_gone(url: str, session_id: str | None) -> dict[str, Any]:
    """``tools/list`` in ``session_id`` until the server no longer knows it.

    Closing a session while its socket is still leaving finishes once it has left.
    """
    import httpx

    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    deadline = time.monotonic() + 5
    with httpx.Client(timeout=TIMEOUT_S, trust_env=False) as http:
        while True:
            reply = http.post(f"{url}/mcp", json={**request, "params": {"session_id": session_id}})
            body = reply.json()
            if "error" in body or time.monotonic() > deadline:
                return body
            time.sleep(0.05)


def mcp_production(url: str) -> dict[str, Any]:
    """MCPToolClient as 0.10 ships it: production mode, through its sync wrapper.

    Connecting makes an HTTP MCP session (``openenv/session/create``) and attaches
    the WebSocket to it (``/ws?session_id=...``); tool calls go over HTTP ``/mcp``
    with that session id, reset/step/state over the socket; closing detaches the
    socket and closes the session (``openenv/session/close``).
    """
    out: dict[str, Any] = {}
    client = MCPToolClient(base_url=url, message_timeout_s=TIMEOUT_S)
    out["production_mode"] = client.use_production_mode
    env = client.sync()
    with env:
        session_id = client._production_session_id
        out["session_id"] = session_id
        # list_tools() answers [] on any failure, so the names prove it worked.
        out["tools"] = [t.name for t in env.list_tools(use_cache=False)]
        out["echo_message"] = env.call_tool("echo_message", message="Hello!")
        out["echo_with_length"] = env.call_tool("echo_with_length", message="Test")
        try:
            env.call_tool("no_such_tool", message="x")
            out["unknown_tool"] = "no error"
        except Exception as exc:
            out["unknown_tool"] = error_text(exc)
        out["reset"] = observation_dict(env.reset(episode_id="prod-1"))
        step = env.step(CallToolAction(tool_name="echo_message", arguments={"message": "ws"}))
        out["step_via_ws"] = observation_dict(step)
        out["step_is_call_tool_observation"] = isinstance(step.observation, CallToolObservation)
        listed = env.step(ListToolsAction())
        out["list_via_ws"] = (
            [t.name for t in listed.observation.tools]
            if isinstance(listed.observation, ListToolsObservation)
            else repr(listed.observation)
        )
        out["state"] = env.state().model_dump()
        # Over the socket, openenv/session/create names the socket's own session:
        # the one the HTTP tool calls run in.
        frame = env._run(
            client._send_and_receive(
                {
                    "type": "mcp",
                    "data": {"jsonrpc": "2.0", "id": 1, "method": "openenv/session/create"},
                }
            )
        )
        out["ws_session_id"] = frame["data"]["result"]["session_id"]
        out["after_ws_calls"] = env.call_tool("echo_message", message="again")
    out["session_id_after_close"] = client._production_session_id
    out["after_close"] = session_gone(url, session_id)
    return out


def retry_capacity(connect: Any) -> Any:
    """``connect()``, retried while a just-closed session is still being freed."""
    deadline = time.monotonic() + 5
    while True:
        try:
            return connect()
        except RuntimeError as exc:
            if "capacity" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def mcp_production_capacity(url: str) -> dict[str, Any]:
    """Production mode against a server with room for one session."""
    out: dict[str, Any] = {}

    def connect() -> Any:
        return MCPToolClient(base_url=url, message_timeout_s=TIMEOUT_S).sync().connect()

    first = retry_capacity(connect)
    try:
        out["first"] = first.call_tool("echo_message", message="first")
        try:
            connect().close()
            out["second"] = "no error"
        except Exception as exc:
            out["second"] = error_text(exc)
    finally:
        first.close()
    # Closing the first client closed its session: there is room again.
    third = retry_capacity(connect)
    try:
        out["third"] = third.call_tool("echo_message", message="third")
    finally:
        third.close()
    return out


def capacity(url: str) -> dict[str, Any]:
    """A server with max_sessions=1: the second client is refused with CAPACITY_REACHED."""
    out: dict[str, Any] = {}
    first = GenericEnvClient(base_url=url, message_timeout_s=TIMEOUT_S).sync()
    second = GenericEnvClient(base_url=url, message_timeout_s=TIMEOUT_S).sync()
    try:
        first.reset()
        try:
            second.reset()
            out["second"] = "no error"
        except Exception as exc:
            out["second"] = error_text(exc)
    finally:
        first.close()
        second.close()
    # Once the first session is closed, its slot is free again.
    deadline = time.monotonic() + 5
    while True:
        third = GenericEnvClient(base_url=url, message_timeout_s=TIMEOUT_S).sync()
        try:
            out["after_release"] = observation_dict(third.reset())
            break
        except Exception as exc:
            out["after_release"] = error_text(exc)
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        finally:
            third.close()
    return out


def metadata(url: str) -> dict[str, Any]:
    """Observation metadata, read the two ways reference clients read it."""
    client = RecordingClient(base_url=url, message_timeout_s=TIMEOUT_S)
    with client:
        client.reset()
        generic = client.step({"message": "hi"})
    with UpstreamStyleEchoEnv(base_url=url, message_timeout_s=TIMEOUT_S).sync() as env:
        env.reset()
        typed = env.step(EchoAction(message="hi"))
    return {
        "generic_result_metadata": generic.metadata,
        "upstream_style_observation_metadata": typed.observation.metadata,
        "frame": client.received[-1],
        "frame_problems": check_frames(client.received),
    }


def http_models(url: str) -> dict[str, Any]:
    """Our HTTP answers, validated by the reference's own (strict) response models."""
    import httpx

    from openenv.core.env_server.types import (
        EnvironmentMetadata,
        HealthResponse,
        ResetResponse,
        SchemaResponse,
        StepResponse,
    )

    checks = {
        ("GET", "/health", None): HealthResponse,
        ("GET", "/metadata", None): EnvironmentMetadata,
        ("GET", "/schema", None): SchemaResponse,
        ("GET", "/state", None): State,
        ("POST", "/reset", json.dumps({"seed": 1, "episode_id": "http-1"})): ResetResponse,
        ("POST", "/reset", None): ResetResponse,  # no body at all, as some clients send
        ("POST", "/step", json.dumps({"action": {"message": "hi"}})): StepResponse,
    }
    out: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=TIMEOUT_S, trust_env=False) as http:
        for (method, path, body), model in checks.items():
            key = f"{method} {path}" + (" (body)" if body else "")
            response = http.request(
                method, path, content=body, headers={"content-type": "application/json"}
            )
            entry: dict[str, Any] = {"status": response.status_code, "body": response.json()}
            try:
                model.model_validate(response.json())
                entry["valid"] = True
            except Exception as exc:
                entry["valid"] = False
                entry["problem"] = str(exc)
            out[key] = entry
    return out


def reference_validate(url: str) -> dict[str, Any]:
    """`openenv validate <url>`'s runtime checks, as the reference CLI runs them."""
    return validate_running_environment(url)


SCENARIOS = {
    "typed_sync": "url",
    "typed_auto_sync": "url",
    "generic_frames": "url",
    "generic_async": "url",
    "errors": "url",
    "mcp_step_style": "url",
    "mcp_ws_envelope": "url",
    "mcp_http": "url",
    "mcp_production": "url",
    "mcp_production_capacity": "capacity_url",
    "capacity": "capacity_url",
    "metadata": "metadata_url",
    "http_models": "url",
    "reference_validate": "url",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--capacity-url", required=True)
    parser.add_argument("--metadata-url", required=True)
    parser.add_argument("--only", nargs="*", help="run only these scenarios")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    for name, which in SCENARIOS.items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        try:
            report[name] = {"ok": True, "result": globals()[name](getattr(args, which))}
        except Exception as exc:
            report[name] = {
                "ok": False,
                "error": error_text(exc),
                "traceback": traceback.format_exc(),
            }
        report[name]["seconds"] = round(time.perf_counter() - started, 3)
    sys.stdout.write(json.dumps(report, default=repr) + "\n")


if __name__ == "__main__":
    main()
