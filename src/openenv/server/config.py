"""Server settings, with the defaults every limit starts from."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field

from ..errors import IsolationRequired
from ..runtime.sandbox import SandboxPolicy
from ..suggest import StrictModel


class ServerConfig(StrictModel):
    """Limits and switches of one server. Every field has a sensible default.

    An unknown key is an error naming it and the nearest field
    (``ServerConfig(max_session=4)``: ``did you mean 'max_sessions'?``).

    Example::

        app = create_app(EchoEnvironment, config=ServerConfig(max_sessions=64, token="s3cret"))
    """

    max_sessions: int = Field(
        1024, ge=1, description="Sessions at once: WebSocket sessions plus in-flight HTTP calls."
    )
    idle_timeout_s: float | None = Field(
        600.0,
        gt=0,
        description="A session with no message for this long is reaped (None: never). "
        "Generous, since a model may generate for minutes between two steps.",
    )
    step_timeout_s: float = Field(
        300.0, gt=0, description="Longest a reset/step may run unless the request asks less."
    )
    timeout_grace_s: float = Field(
        0.5,
        ge=0,
        description="Extra time past a step's timeout before the server ends it, so an "
        "environment that enforces the timeout itself can still answer.",
    )
    max_message_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Largest client message accepted."
    )
    token: str | None = Field(
        default_factory=lambda: os.environ.get("OPENENV_TOKEN") or None,
        description="Bearer token required on every route (default: $OPENENV_TOKEN).",
    )
    ping_interval_s: float | None = Field(
        20.0, description="WebSocket keepalive ping period (None: no pings)."
    )
    ping_timeout_s: float | None = Field(20.0, description="Close if a ping gets no pong.")
    websocket_compression: bool = Field(
        False,
        description="Accept permessage-deflate when a client offers it (OpenEnv's client "
        "does): fewer bytes for large observations on a slow link, ~15-25 µs more server "
        "CPU a step. Off: such clients connect uncompressed, unchanged otherwise.",
    )
    sync_workers: int = Field(
        64, ge=1, description="Threads that run synchronous environments' reset/step."
    )
    isolation: Literal["none", "sandbox"] | None = Field(
        None,
        description="'sandbox': each session's environment runs in its own bubblewrap "
        "sandbox (see docs/isolation.md); 'none': in the server process; None: 'sandbox' "
        "for environments that run agent code (requires_sandbox), else 'none'.",
    )
    unsandboxed_agent_code: bool = Field(
        False,
        description="Allow isolation='none' for an environment that runs agent code "
        "(requires_sandbox). Its programs then run as the server's user, confined by "
        "Landlock only: see docs/rewards.md for what is not protected.",
    )
    sandbox: SandboxPolicy = Field(
        default_factory=SandboxPolicy, description="Limits of each sandbox (isolation='sandbox')."
    )
    warm_pool_size: int = Field(
        2, ge=0, description="Sandboxed workers kept started ahead of sessions."
    )


UNSANDBOXED_WARNING = (
    "{name} runs agent-supplied code WITHOUT a sandbox (isolation 'none'): its programs "
    "run as this server's user, see this machine's processes and unix sockets, and a "
    "process that detaches itself (setsid) can outlive the episode; rewards are not "
    "protected (docs/rewards.md). Serve it with isolation 'sandbox' for training."
)


def isolation_for(env_class: type, config: ServerConfig) -> Literal["none", "sandbox"]:
    """The isolation ``config`` gives ``env_class``: its own choice, or the environment's
    default; :class:`IsolationRequired` for ``none`` on an environment that runs agent
    code, unless ``config.unsandboxed_agent_code``."""
    requires = bool(getattr(env_class, "requires_sandbox", False))
    chosen = config.isolation or ("sandbox" if requires else "none")
    if chosen == "none" and requires and not config.unsandboxed_agent_code:
        name = getattr(env_class, "__name__", str(env_class))
        raise IsolationRequired(
            f"{name} runs agent-supplied code and needs isolation 'sandbox'; to run it "
            "without one anyway (its programs are then NOT isolated from this machine: "
            "see docs/rewards.md), pass --allow-unsandboxed-agent-code "
            "(ServerConfig(unsandboxed_agent_code=True))"
        )
    return chosen
