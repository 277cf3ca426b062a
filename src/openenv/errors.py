"""Every error OpenEnv raises on purpose, in one tree.

Catch :class:`OpenEnvError` to catch them all; catch a branch to catch one layer's.
Most also subclass the built-in exception an ``except`` written without OpenEnv in
mind would reach for (a lost session is a ``ConnectionError``, a reply that never
came a ``TimeoutError``), shown in brackets::

    OpenEnvError
    ├── ConfigError [ValueError]               a setting or argument refused
    │   └── IsolationRequired                    agent code asked to run unsandboxed
    ├── EnvironmentNotFound [LookupError]      discovery: ENV names nothing loadable
    │   └── InvalidSettings                      its openenv.yaml has a bad key or value
    ├── AgentsNotFound [LookupError]           an env package without reference agents
    ├── StepRefused                            a step refused, as a reference agent sees it
    ├── EpisodeError [ValueError]              a step the episode's rules refuse
    │   ├── EpisodeNotStarted                    step before reset (NOT_RESET)
    │   └── EpisodeOver                          step after done (EPISODE_OVER)
    ├── ProtocolError                          server: a request refused, one error frame
    │   ├── CapacityError                        no room for a session (CAPACITY_REACHED)
    │   └── WorkerDied                           the sandboxed worker is gone (SESSION_ERROR)
    ├── ClientError                            client: what a client call raises
    │   ├── EnvServerError [RuntimeError]        the server answered with an error frame
    │   │   └── WrongEnvironmentError              it serves another environment
    │   ├── ConnectError [ConnectionError]       no WebSocket could be opened
    │   ├── SessionLostError [ConnectionError]   the session's connection is gone
    │   ├── RequestTimeout [TimeoutError]        no reply in time
    │   └── ToolError [RuntimeError]             an MCP tool call failed
    ├── RuntimeStartError [RuntimeError]       runtime: a server did not come up
    │   └── SandboxStartError                    a sandboxed worker did not start
    │       └── ZygoteUnavailable                  no forked workers here: spawned instead
    ├── SandboxUnavailable [RuntimeError]      runtime: sandboxes cannot work on this host
    │   ├── SeccompUnavailable                   libseccomp missing or refused the filter
    │   └── LandlockUnavailable [OSError]        the kernel has no Landlock
    ├── ContainerError                         containers: the engine, an image, a push
    │   ├── EngineUnavailable                    no Docker Engine API to talk to
    │   ├── ImageBuildError                      an image did not build (with the build's output)
    │   └── PushError                            an image or a Space was not uploaded
    ├── EnvironmentFailed                      runtime: the environment raised in its worker
    ├── ChannelClosed [ConnectionError]        runtime: a worker's channel went away
    ├── PoolClosed [RuntimeError]              runtime: the warm pool is shut down
    ├── GradingError                           grading: the grader could not grade
    │   ├── NotPlainData [ValueError]            a message that is not plain data
    │   ├── TrustedFailure [RuntimeError]        the verifier process failed
    │   └── TaskError [RuntimeError]             a hidden test is broken (the task's fault)
    ├── InvalidGuess [ValueError]              text games: a message with no usable move
    ├── NotGymnasiumCompatible [TypeError]     integrations: no generic Gymnasium mapping
    ├── UnsupportedSpace [TypeError]           integrations: a space with no schema
    ├── EnvCheckFailed [AssertionError]        testing: check_env found contract breaches
    ├── DemoCheckFailed [AssertionError]       demo: an answer other than the scenario's
    └── CliError                               CLI: a failure the user can fix (exit 1)

Example::

    from openenv import EnvClient, errors

    try:
        result = client.step(action)
    except errors.SessionLostError:
        result = client.reset()          # the session is gone: start a new one
    except errors.EnvServerError as exc:
        print(exc.code, exc.message)     # the server refused this step

Wrong arguments to a function (a bad type, a negative size) raise plain
``TypeError`` / ``ValueError``, as in the standard library: they are bugs to fix, not
conditions to handle. Error *codes* on the wire are :class:`openenv.protocol.ErrorCode`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .protocol import ErrorCode
    from .testing.checks import CheckReport


class OpenEnvError(Exception):
    """The root of every error OpenEnv raises on purpose."""


# -- configuration and discovery ---------------------------------------------------------


class ConfigError(OpenEnvError, ValueError):
    """A setting or argument refused; the message names it and what would be accepted."""


class IsolationRequired(ConfigError):
    """An environment that runs agent code was asked to run without a sandbox."""


class EnvironmentNotFound(OpenEnvError, LookupError):
    """``ENV`` names no environment, or the one it names cannot be loaded."""


class InvalidSettings(EnvironmentNotFound):
    """An ``openenv.yaml`` holds an unknown key or a bad value (the message names it)."""


class AgentsNotFound(OpenEnvError, LookupError):
    """The environment declares no reference agents, or they cannot be imported."""


class StepRefused(OpenEnvError):
    """A step the environment refused, as a reference agent sees it when driven by
    ``openenv validate`` (see :mod:`openenv.agents`)."""


# -- the episode's rules (environment side) ----------------------------------------------


class EpisodeError(OpenEnvError, ValueError):
    """A step the episode's rules refuse (see :mod:`openenv.environment`)."""


class EpisodeNotStarted(EpisodeError):
    """``step`` before the first ``reset``; the wire code is ``NOT_RESET``."""


class EpisodeOver(EpisodeError):
    """``step`` after the episode ended; the wire code is ``EPISODE_OVER``."""


# -- server ------------------------------------------------------------------------------


class ProtocolError(OpenEnvError):
    """A request the server refuses; becomes one error frame (or HTTP 4xx/5xx).

    ``ends_session`` marks failures after which the session cannot go on (e.g. a
    sandboxed worker died): the server answers, then ends the session.
    """

    ends_session = False

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    def frame_data(self) -> dict[str, Any]:
        """The error frame's ``data``: ``{"message", "code", **extra}``."""
        return {"message": self.message, "code": self.code.value, **self.extra}


class CapacityError(ProtocolError):
    """The server has no room for another session (``CAPACITY_REACHED``)."""

    def __init__(self, active: int, max_sessions: int) -> None:
        from .protocol import ErrorCode

        super().__init__(
            ErrorCode.CAPACITY_REACHED,
            f"Server at capacity: {active}/{max_sessions} sessions in use; retry later",
            active_sessions=active,
            max_sessions=max_sessions,
        )


class WorkerDied(ProtocolError):
    """The sandboxed worker is gone; its session cannot continue (``SESSION_ERROR``)."""

    ends_session = True

    def __init__(self, how: str, cause: str = "died") -> None:
        from .protocol import ErrorCode

        super().__init__(ErrorCode.SESSION_ERROR, f"the sandboxed environment {how}", cause=cause)


# -- client ------------------------------------------------------------------------------


class ClientError(OpenEnvError):
    """What a client call raises when it cannot return a result."""


class EnvServerError(ClientError, RuntimeError):
    """The server answered with an error frame.

    ``code`` is the frame's code (e.g. ``"VALIDATION_ERROR"``, see
    :class:`~openenv.protocol.ErrorCode`); ``message`` its message; ``details`` the rest.
    """

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{message} (code: {code})")
        self.code = code
        self.message = message
        self.details = details or {}


class WrongEnvironmentError(EnvServerError):
    """The server serves another environment than the one this typed client is for.

    Raised on connect (code ``WRONG_ENVIRONMENT``); construct the client with
    ``verify_server=False`` to connect anyway.
    """

    def __init__(self, message: str) -> None:
        super().__init__("WRONG_ENVIRONMENT", message)


class ConnectError(ClientError, ConnectionError):
    """No session could be opened: the server is not there, refused the WebSocket, or
    the server this client launched was stopped."""


class SessionLostError(ClientError, ConnectionError):
    """The connection, and so the server-side session, is gone.

    The episode cannot continue; call ``reset()`` to start a new session and episode.
    """


class RequestTimeout(ClientError, TimeoutError):
    """No reply within the client's wait (``message_timeout_s``, or a step's
    ``timeout_s`` plus a margin)."""


class ToolError(ClientError, RuntimeError):
    """An MCP tool call failed (unknown tool, bad arguments, or the tool raised)."""


# -- runtime -----------------------------------------------------------------------------


class RuntimeStartError(OpenEnvError, RuntimeError):
    """The server did not come up; the message says why in one line and names its log file."""


class SandboxStartError(RuntimeStartError):
    """A sandboxed worker could not start (the message says how it ended)."""


class ZygoteUnavailable(SandboxStartError):
    """A zygote's template could not start, or could not build a worker's sandbox on
    this host: the warm pool spawns each worker afresh instead (and says why, once)."""


class SandboxUnavailable(OpenEnvError, RuntimeError):
    """Sandboxing cannot work on this host; the message says what to install or choose."""


class SeccompUnavailable(SandboxUnavailable):
    """libseccomp cannot be loaded or refused the filter."""


class LandlockUnavailable(SandboxUnavailable, OSError):
    """The kernel has no Landlock (too old, or not enabled at boot)."""


class ContainerError(OpenEnvError):
    """Building, running or shipping an OCI image failed; the message says what to do."""


class EngineUnavailable(ContainerError):
    """No container engine answers the Docker Engine API (``$DOCKER_HOST``, Docker's
    socket, or a Podman this process can start); the message says what to install."""


class ImageBuildError(ContainerError):
    """An image did not build; the message names the step and ends with its output."""


class PushError(ContainerError):
    """An image or a Space was not uploaded (no token, no network, a name taken)."""


class EnvironmentFailed(OpenEnvError):
    """The environment raised inside its sandboxed worker (reported as ``EXECUTION_ERROR``).

    Raised as a subclass named after the original exception type (see
    :func:`openenv.runtime.isolated.environment_failed`), so messages read
    ``ValueError: ...`` as in-process.
    """

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name

    def __str__(self) -> str:
        return self.args[0]


class ChannelClosed(OpenEnvError, ConnectionError):
    """The other end of a worker's channel went away."""


class PoolClosed(OpenEnvError, RuntimeError):
    """The pool is closed (the server is shutting down)."""


# -- grading -----------------------------------------------------------------------------


class GradingError(OpenEnvError):
    """The grader could not grade; never scored as the submission's failure."""


class NotPlainData(GradingError, ValueError):
    """A message that is not plain data (see :mod:`openenv.grading.values`)."""


class TrustedFailure(GradingError, RuntimeError):
    """The verifier process failed: it raised, ran out of time or memory, or said nothing."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


class TaskError(GradingError, RuntimeError):
    """A hidden test is broken (its inputs or an expected side fail): the task's fault,
    never the submission's, so it is raised rather than scored."""


# -- integrations, testing, demo, CLI ----------------------------------------------------


class InvalidGuess(OpenEnvError, ValueError):
    """The message holds no usable guess; the text says why (it is shown to the agent).

    Raise it from :meth:`openenv.text_games.TextGame.parse` (or from a game's reader that ``parse``
    calls) for a message that cannot count as a move::

        raise InvalidGuess("no guess found: reply with a 5-letter word in square brackets")

    The game then counts it against the invalid-message budget instead of playing.
    Subclass it to tell kinds apart (Hangman's ``RepeatedGuess``).
    """


class NotGymnasiumCompatible(OpenEnvError, TypeError):
    """The environment's types have no generic Gymnasium mapping; the message says why."""


class UnsupportedSpace(OpenEnvError, TypeError):
    """A Gymnasium space with no JSON-schema form (``Sequence``, ``Graph``, ``OneOf``, custom)."""


class EnvCheckFailed(OpenEnvError, AssertionError):
    """:func:`~openenv.testing.check_env` found contract breaches; ``report`` has every result."""

    def __init__(self, report: CheckReport) -> None:
        super().__init__(str(report))
        self.report = report


class DemoCheckFailed(OpenEnvError, AssertionError):
    """The environment answered something other than what the demo scenario expected."""


class CliError(OpenEnvError):
    """A failure the user can fix; the CLI shows it as one line on stderr, exit code 1."""


INFRASTRUCTURE_CODES = frozenset({"CAPACITY_REACHED", "FACTORY_ERROR", "SESSION_ERROR", "TIMEOUT"})
"""Error-frame codes that say the server, not the request, failed."""


def is_infrastructure(error: BaseException) -> bool:
    """Whether ``error`` is a failure of the infrastructure (the connection, the server,
    a sandboxed worker) rather than of the request: what a trainer must never score.

    Example::

        try:
            result = client.step(action)
        except OpenEnvError as exc:
            if is_infrastructure(exc):
                ...                       # retry elsewhere; this is not a bad episode
    """
    if isinstance(error, EnvServerError):
        return error.code in INFRASTRUCTURE_CODES
    return isinstance(error, (ConnectError, SessionLostError, RequestTimeout, OSError))
