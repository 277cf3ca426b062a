"""``openenv serve ENV``: serve an environment over OpenEnv's wire protocol until Ctrl-C."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import sys
import threading
from enum import Enum
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape

from ..discovery import find_environment
from ..runtime.sandbox import SandboxUnavailable
from ..suggest import describe_validation_error
from .output import CliError, console, err_console

if TYPE_CHECKING:  # the server stack is imported when a server starts: a quick `--help`
    import socket

    import uvicorn


class Isolation(str, Enum):
    """Where each session's environment runs."""

    none = "none"
    sandbox = "sandbox"
    container = "container"


class LogLevel(str, Enum):
    """How much the server logs (uvicorn's and OpenEnv's loggers alike)."""

    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


def serve(
    env: Annotated[
        str,
        typer.Argument(
            metavar="ENV",
            help="Installed environment name (e.g. echo_env) or a folder with openenv.yaml.",
        ),
    ],
    host: Annotated[
        str,
        typer.Option(
            help="Interface to bind; 0.0.0.0 makes the server reachable from other machines."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="TCP port (default: openenv.yaml's port, else 8000; 0: any)."
        ),
    ] = None,
    max_sessions: Annotated[
        int | None,
        typer.Option(min=1, help="Sessions at once (default 1024); more get CAPACITY_REACHED."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="OPENENV_TOKEN",
            show_envvar=True,
            help="Bearer token every request must carry (default: none).",
        ),
    ] = None,
    isolation: Annotated[
        Isolation | None,
        typer.Option(
            help="Where environments run (default: openenv.yaml's isolation, else none). "
            "container: the whole server in one container of --image, which runs its "
            "sessions with openenv.yaml's isolation inside."
        ),
    ] = None,
    image: Annotated[
        str | None,
        typer.Option(
            help="With --isolation container: the image (default openenv-NAME:latest, "
            "built with openenv build if missing)."
        ),
    ] = None,
    allow_unsandboxed_agent_code: Annotated[
        bool,
        typer.Option(
            "--allow-unsandboxed-agent-code",
            help="With --isolation none, serve an environment that runs agent code "
            "(coding_env, terminal_env) anyway. Its programs are then NOT isolated from "
            "this machine and rewards are not protected: see docs/rewards.md.",
        ),
    ] = False,
    idle_timeout: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Seconds a silent session lives before it is reaped (default 600; 0: never).",
        ),
    ] = None,
    step_timeout: Annotated[
        float | None,
        typer.Option(min=0.001, help="Longest a reset/step may run, in seconds (default 300)."),
    ] = None,
    warm_pool_size: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="With isolation sandbox: workers kept started ahead of sessions "
            "(default: openenv.yaml's warm_pool_size, else 2; 0: start each on demand).",
        ),
    ] = None,
    websocket_compression: Annotated[
        bool,
        typer.Option(
            "--websocket-compression/--no-websocket-compression",
            help="Accept permessage-deflate from clients that offer it (OpenEnv's client "
            "does): fewer bytes on a slow link, ~15-25 µs more server CPU a step. Off by "
            "default: such clients then connect uncompressed.",
        ),
    ] = False,
    log_level: Annotated[
        LogLevel,
        typer.Option(
            case_sensitive=False,
            help="Least severe log messages shown: info adds sessions reaped, calls "
            "refused and uvicorn's start-up; debug adds everything.",
        ),
    ] = LogLevel.warning,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log each HTTP request and WebSocket connection (client, request, status) "
            "to stdout.",
        ),
    ] = False,
    exit_with_stdin: Annotated[
        bool,
        typer.Option(
            "--exit-with-stdin",
            hidden=True,
            help="Stop when stdin closes (launchers: the server goes when its parent does).",
        ),
    ] = False,
) -> None:
    """Serve ENV over WebSocket /ws and HTTP until Ctrl-C.

    Example: openenv serve echo_env --port 8000
    """
    import uvicorn

    from ..server import ServerConfig, create_app, uvicorn_config
    from ..server.config import UNSANDBOXED_WARNING, IsolationRequired
    from ..server.run import http_url, log_config, ws_url

    found = find_environment(env)
    if isolation is Isolation.container:
        from .containers import serve_in_container

        return serve_in_container(
            found,
            host=host,
            port=port if port is not None else (found.port or 8000),
            token=token,
            image=image,
        )
    chosen = isolation.value if isolation is not None else (found.isolation or "none")
    if chosen not in (Isolation.none.value, Isolation.sandbox.value):
        raise CliError(
            f"openenv.yaml of {found.name} asks for isolation {chosen!r}; "
            "use --isolation none or sandbox"
        )
    settings: dict[str, Any] = {
        "token": token or None,
        "isolation": chosen,
        "unsandboxed_agent_code": allow_unsandboxed_agent_code,
    }
    if found.settings.get("sandbox"):  # per-environment limits from openenv.yaml
        settings["sandbox"] = found.settings["sandbox"]
    pool_size = warm_pool_size if warm_pool_size is not None else found.warm_pool_size
    if pool_size is not None:  # the flag wins over openenv.yaml
        settings["warm_pool_size"] = pool_size
    if max_sessions is not None or found.max_sessions is not None:  # the flag wins
        settings["max_sessions"] = max_sessions if max_sessions is not None else found.max_sessions
    if idle_timeout is not None:
        settings["idle_timeout_s"] = idle_timeout or None
    if step_timeout is not None:
        settings["step_timeout_s"] = step_timeout
    if websocket_compression:
        settings["websocket_compression"] = True
    try:
        config = ServerConfig(**settings)
    except ValidationError as exc:
        problem = describe_validation_error(exc, model=ServerConfig)
        raise CliError(f"invalid server settings: {problem}") from None
    try:
        if found.factory is not None:
            app = create_app(found.factory, found.env_class, config=config)
        else:
            app = create_app(found.env_class, config=config)
    except (SandboxUnavailable, IsolationRequired, TypeError) as exc:
        raise CliError(str(exc)) from None
    if chosen == "none" and found.env_class.requires_sandbox:
        err_console.print(f"warning: {UNSANDBOXED_WARNING.format(name=found.name)}", soft_wrap=True)
    sock = bind_socket(host, port if port is not None else (found.port or 8000))
    server = uvicorn.Server(
        uvicorn_config(
            app,
            host,
            sock.getsockname()[1],
            log_access=access_log,
            log_config=log_config(log_level.value, access_log=access_log),
            log_level=None,  # levels come from log_config
        )
    )
    base = http_url(host, sock.getsockname()[1])
    auth = "token required" if config.token else "no token"
    access = "access log on" if access_log else "access log off"
    console.print(  # launchers read the URL from this line (openenv.runtime.local)
        f"[bold]openenv[/] serving [cyan]{escape(found.name)}[/] on {base} "
        f"(WebSocket {ws_url(base)}, {auth}, isolation {chosen}, "
        f"max {config.max_sessions} sessions, log level {log_level.value}, {access}) "
        "- Ctrl-C to stop",
        soft_wrap=True,
    )
    if host not in ("127.0.0.1", "localhost", "::1") and not config.token:
        err_console.print(
            f"warning: {host} is reachable from other machines and no --token is set",
            soft_wrap=True,
        )
    if exit_with_stdin:
        threading.Thread(
            target=_stop_at_stdin_eof, args=(server,), name="openenv-stdin", daemon=True
        ).start()
    previous = signal.signal(signal.SIGTERM, _interrupt)  # `docker stop` ends as cleanly as Ctrl-C
    failures = _LastError()
    logging.getLogger("uvicorn.error").addHandler(failures)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    except SystemExit:
        if server.started:
            raise
        # uvicorn exits (status 3) when the app's start-up fails: say why, in one line.
    finally:
        logging.getLogger("uvicorn.error").removeHandler(failures)
        signal.signal(signal.SIGTERM, previous)
        sock.close()
    if not server.started:
        why = f": {failures.error}" if failures.error else " (see the log above)"
        raise CliError(f"the server for {found.name} failed to start{why}")
    console.print("[bold]openenv[/] stopped")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class _LastError(logging.Handler):
    """Remembers why uvicorn failed, as one line: the last exception it logged.

    An exception arrives as ``exc_info`` or, from the app's lifespan, as a formatted
    traceback in the message: its last line (``RuntimeError: ...``) says it. Without
    either, the first error message logged ("Application startup failed").
    """

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.error: str | None = None
        self._from_exception = False

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        message = record.getMessage()
        if exc is not None:
            text = " ".join(str(exc).split())
            self.error = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
            self._from_exception = True
        elif "Traceback (most recent call last)" in message:
            self.error = message.strip().splitlines()[-1].strip()
            self._from_exception = True
        elif not self._from_exception and message.strip():
            self.error = " ".join(message.split())


def _stop_at_stdin_eof(server: uvicorn.Server) -> None:
    """Read stdin until it closes, then shut the server down as Ctrl-C would.

    A launcher (:class:`openenv.runtime.local.LocalRuntime`) holds the only write end:
    when it exits, however it exits, the server follows and takes its sandboxes along.
    """
    with contextlib.suppress(OSError, ValueError, AttributeError):
        # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader aborts
        # the interpreter at exit ("could not acquire lock"), e.g. after a failed start.
        fd = sys.stdin.fileno()
        while os.read(fd, 65536):
            pass
    server.should_exit = True  # uvicorn still runs its shutdown if startup is under way


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; a clear :class:`CliError` when that fails."""
    from ..server.run import listen_socket

    try:
        return listen_socket(host, port)
    except OSError as exc:
        hint = " (pick another --port)" if exc.errno == errno.EADDRINUSE else ""
        raise CliError(f"{exc.strerror}{hint}") from None
