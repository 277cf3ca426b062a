"""The runtime interface: somewhere an environment server runs, started and stopped from here.

A :class:`Runtime` owns one environment server: :meth:`~Runtime.start` brings it
up and returns its endpoint (the ``base_url`` a client takes),
:meth:`~Runtime.health` says whether it answers, and :meth:`~Runtime.stop` takes
it down with everything it started. It is a context manager, and stopping twice
is harmless.

Implementations: :class:`openenv.runtime.local.LocalRuntime` (an ``openenv serve``
subprocess, ``isolation="none"`` or ``"sandbox"``) and
:class:`openenv.server.run.BackgroundServer` (an app in a thread of this process).
OCI containers and clusters are later implementations of the same four methods.

Example::

    from openenv.runtime.local import LocalRuntime
    from echo_env import EchoEnv

    with LocalRuntime("echo_env", isolation="sandbox") as runtime:
        with EchoEnv(base_url=runtime.base_url, token=runtime.token) as client:
            client.reset()

To add a runtime, subclass :class:`Runtime` and implement ``start``, ``health``
and ``stop``; ``start`` must leave nothing behind when it fails (stop what it
started, then raise :class:`RuntimeStartError` with what the server said).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType

from typing_extensions import Self

from ..errors import RuntimeStartError  # noqa: F401 (re-exported)


class Runtime(ABC):
    """One environment server somewhere: ``start() -> base_url``, ``health()``, ``stop()``."""

    base_url: str | None = None
    """``http://host:port`` once started, else ``None``."""

    token: str | None = None
    """The bearer token the server requires, if any (pass it to the client)."""

    @abstractmethod
    def start(self) -> str:
        """Start the server, wait until it is healthy, and return its ``base_url``.

        Calling it on a started runtime returns the same ``base_url``. On failure
        nothing is left running and :class:`RuntimeStartError` is raised.
        """

    @abstractmethod
    def health(self) -> bool:
        """Whether the server answers ``GET /health`` now (``False`` when not started)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the server and everything it started. Safe to call twice, or before start."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url or "not started"
        return f"<{type(self).__name__} {where}>"
