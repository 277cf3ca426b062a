"""An echo server built with the *reference* OpenEnv (``openenv==0.10.0``).

Run it with the reference virtual environment's Python (see :mod:`venv`), never
with ours: both packages are called ``openenv``::

    $(python -m benchmarks.reference.venv)/../python benchmarks/reference/echo_server.py --port 8001

It is equivalent to our ``echo_env``: the same action (``message``) and
observation (``echoed_message``, ``message_length``) fields, the same reward
(``len(message) / 10``; ``None`` after reset), the same reset options
(``max_steps``, default 10; ``greeting``), and the same two MCP tools
(``echo_message``, ``echo_with_length``), served through the reference's
``MCPEnvironment`` and FastMCP. Compatibility tests and benchmarks use it as the
"reference server" side.
"""

from __future__ import annotations

import argparse
from typing import Any, ClassVar
from uuid import uuid4

import uvicorn
from fastmcp import FastMCP
from pydantic import Field

from openenv.core.env_server.http_server import create_app
from openenv.core.env_server.mcp_environment import MCPEnvironment
from openenv.core.env_server.mcp_types import CallToolAction, ListToolsAction
from openenv.core.env_server.types import Action, Observation, State

GREETING = "Echo environment ready!"

mcp = FastMCP("echo_env")


@mcp.tool()
def echo_message(message: str) -> str:
    """Echo a message back unchanged."""
    return message


@mcp.tool()
def echo_with_length(message: str) -> dict[str, Any]:
    """Echo a message back together with its length."""
    return {"message": message, "length": len(message)}


class EchoAction(Action):
    """A message to echo back."""

    message: str = Field(description="The text to echo.")

    _MCP_ACTIONS: ClassVar[dict[str, type[Action]]] = {
        "list_tools": ListToolsAction,
        "call_tool": CallToolAction,
    }

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        # The reference server only routes MCP step actions ("type": "list_tools" /
        # "call_tool") when the env's action class is `Action` or an MCP action; echo
        # takes both its own action and MCP ones (as ours does), so dispatch here.
        if isinstance(obj, dict) and obj.get("type") in cls._MCP_ACTIONS:
            return cls._MCP_ACTIONS[obj["type"]].model_validate(obj, *args, **kwargs)
        return super().model_validate(obj, *args, **kwargs)


class EchoObservation(Observation):
    """The message as the environment heard it."""

    echoed_message: str = Field(default="", description="The message, echoed.")
    message_length: int = Field(default=0, ge=0, description="Its length in characters.")


class EchoEnvironment(MCPEnvironment):
    """Echoes each message back; reward = 0.1 per character of the message."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self) -> None:
        super().__init__(mcp)
        self._state = State(episode_id=str(uuid4()), step_count=0)
        self._max_steps = 10

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        max_steps: int = 10,
        greeting: str = GREETING,
        **kwargs: Any,
    ) -> EchoObservation:
        if max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        self._state = State(episode_id=episode_id or str(uuid4()), step_count=0)
        self._max_steps = max_steps
        return EchoObservation(echoed_message=greeting, message_length=len(greeting))

    def _step_impl(
        self, action: Action, timeout_s: float | None = None, **kwargs: Any
    ) -> Observation:
        if not isinstance(action, EchoAction):
            raise TypeError(f"unexpected action {type(action).__name__}")
        self._state.step_count += 1
        return EchoObservation(
            echoed_message=action.message,
            message_length=len(action.message),
            reward=len(action.message) / 10,
            done=self._state.step_count >= self._max_steps,
        )

    @property
    def state(self) -> State:
        return self._state


def build_app(max_sessions: int) -> Any:
    return create_app(
        EchoEnvironment,
        EchoAction,
        EchoObservation,
        env_name="echo_env",
        max_concurrent_envs=max_sessions,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--max-sessions", type=int, default=1024)
    args = parser.parse_args()
    uvicorn.run(build_app(args.max_sessions), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
