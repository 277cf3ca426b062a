"""The process inside a sandbox: hosts one environment and answers the server.

Started as ``python -S -c <bootstrap> module:Class FD``: it imports the class,
creates the environment, says ``{"ready": true, "state": ...}`` on the channel at
file descriptor ``FD``, then serves one request at a time.

Requests: ``reset`` (``kwargs``), ``step`` (``action``, ``timeout_s``), ``state``,
``tool`` (``name``, ``arguments``), ``close``. Replies: ``{"ok": true, ...}`` with
the observation and the state after the call (a tool: its ``value``, or its MCP
``result`` for a tool the instance has of its own, listed as ``tools`` in the hello),
or ``{"ok": false, "error": {"type", "message"}}``. Everything is JSON (see
:mod:`.channel`).

After ``close`` the worker closes its environment, answers, and waits for the
server to end the sandbox (the server kills the sandbox's pid 1, so nothing is
orphaned); it exits by itself only when the server goes away (end of file).

Limits that act by signal are made visible here: Python ignores ``SIGXFSZ``, so
the worker restores its default (a file past the size limit kills the worker,
and the server reports it), and the CPU soft limit is set a second below the hard
one, so the kernel's ``SIGXCPU`` (not a bare ``SIGKILL``) says which limit hit.
Where the worker is pid 1 of its namespace (``bwrap --as-pid-1``), whose signals'
default actions the kernel ignores, handlers exit with the status the signal
would have given.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import socket
import sys
import types
from typing import Any

from .channel import SyncChannel


def load(spec: str) -> type:
    """The class ``module:QualName`` names, after importing ``@preload`` if given (see
    ``isolated.class_spec``)."""
    spec, _, preload = spec.partition("@")
    if preload:
        importlib.import_module(preload)
    module_name, _, qualname = spec.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def error_reply(exc: BaseException) -> dict[str, Any]:
    return {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc)}}


class Host:
    """Runs requests against one environment instance."""

    def __init__(self, env_class: Any) -> None:
        self.env = env_class()
        self.async_reset, self.async_step = self.awaits(env_class)
        self._loop: Any = None
        if self.async_reset or self.async_step:
            self._event_loop()  # now, while warming up, not in the first reset

    @staticmethod
    def awaits(env_class: Any) -> tuple[bool, bool]:
        """Whether ``reset`` and ``step`` of ``env_class`` need an event loop here (a
        zygote's template imports asyncio before forking when either does)."""
        return env_class.needs_event_loop("reset_async"), env_class.needs_event_loop("step_async")

    def _run(self, value: Any) -> Any:
        if not isinstance(value, types.CoroutineType):
            return value
        return self._event_loop().run_until_complete(value)

    def _event_loop(self) -> Any:
        if self._loop is None:  # imported on first need: asyncio costs start-up time
            import asyncio

            self._loop = asyncio.new_event_loop()
        return self._loop

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request["op"]
        env = self.env
        if op == "step":
            action = env.validate_action(request["action"])
            call = env.step_async if self.async_step else env.step
            return self._observed(self._run(call(action, timeout_s=request.get("timeout_s"))))
        if op == "reset":
            kwargs = request.get("kwargs") or {}
            call = env.reset_async if self.async_reset else env.reset
            return self._observed(self._run(call(**kwargs)))
        if op == "state":
            return {"ok": True, "state": self.state()}
        if op == "tool":
            from ..tools import ToolSpec

            spec = env.instance_tools()[request["name"]]
            arguments = request.get("arguments") or {}
            if isinstance(spec, ToolSpec):  # a @tool method: its value
                value = self._run(spec.call(env, arguments))
                return {"ok": True, "value": value, "state": self.state()}
            value = self._run(spec.bind(env, arguments)())  # the instance's own: its result
            result = spec.result(value, sys.maxsize)  # the server checks the size
            return {"ok": True, "result": result, "state": self.state()}
        raise ValueError(f"unknown request {op!r}")

    def state(self) -> Any:
        return self.env.state.model_dump(mode="json")

    def own_tools(self) -> list[dict[str, Any]] | None:
        """The tools the instance has of its own (described), when its class gives
        instances their own (``instance_tools``); None when they are the class's."""
        from ..environment import Environment

        if type(self.env).instance_tools is Environment.instance_tools:
            return None
        return [
            {
                "description": spec.describe(),
                "errors_as_results": getattr(spec, "errors_as_results", True),
            }
            for spec in self.env.instance_tools().values()
        ]

    def _observed(self, observation: Any) -> dict[str, Any]:
        return {
            "ok": True,
            "observation": observation.model_dump(mode="json"),
            "state": self.state(),
        }

    def close(self) -> None:
        try:
            self.env.close()
        finally:
            if self._loop is not None:
                self._loop.close()


def send_reply(channel: SyncChannel, request: dict[str, Any], reply: dict[str, Any]) -> None:
    """Send ``reply``; a tool value that is not JSON is reported as such, not mangled."""
    try:
        channel.send(reply)
    except TypeError as exc:  # orjson: "Type is not JSON serializable: ..."
        if request.get("op") == "tool" and "value" in reply:
            value_type = type(reply["value"]).__name__
            channel.send({"ok": True, "not_json": value_type, "state": reply.get("state")})
        else:
            channel.send(error_reply(exc))


def serve(channel: SyncChannel, host: Host) -> None:
    """Answer requests until ``close``, or until the server goes away (then close quietly)."""
    try:
        while True:
            request = channel.receive()
            if request.get("op") == "close":
                try:
                    host.close()
                    reply: dict[str, Any] = {"ok": True}
                except Exception as exc:
                    reply = error_reply(exc)
                channel.send(reply)
                wait_for_end(channel)
                return
            try:
                reply = host.handle(request)
            except Exception as exc:  # the environment's failure, reported, never fatal
                reply = error_reply(exc)
            send_reply(channel, request, reply)
    except OSError:  # ChannelClosed, or a broken pipe: the server is gone
        host.close()


def wait_for_end(channel: SyncChannel) -> None:
    """Block until the server ends the sandbox (or closes the channel)."""
    while True:
        try:
            channel.receive()
        except OSError:  # ChannelClosed included
            return


def make_limits_visible() -> None:
    if os.getpid() == 1:
        # pid 1 of its PID namespace (bwrap --as-pid-1): signals with their default
        # action are ignored there, so exit as the default action would have.
        for signum in (signal.SIGXCPU, signal.SIGXFSZ):
            signal.signal(signum, _exit_like_the_signal)
    else:
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY and hard > 1 and soft == hard:
            resource.setrlimit(resource.RLIMIT_CPU, (hard - 1, hard))
    except (ImportError, ValueError, OSError):
        pass


def _exit_like_the_signal(signum: int, frame: Any) -> None:
    os._exit(128 + signum)  # what bwrap reports for a process killed by ``signum``


def prepare(spec: str) -> type:
    """Import the environment class ``spec`` and what its sessions will need: its
    ``prepare_shared`` data, asyncio when its hooks need an event loop, and its
    reset-options and tool models. A zygote's template calls it once before forking,
    so each forked worker finds all of it loaded; a worker started afresh calls it too."""
    env_class = load(spec)
    prepare_shared = getattr(env_class, "prepare_shared", None)
    if prepare_shared is not None:
        prepare_shared()
    if any(Host.awaits(env_class)):
        import asyncio  # noqa: F401 - once here, not in every forked worker
    # Class-level models built on first use: here, not in every session's first reset
    # (~6 ms of each coding_env worker's CPU). A failure shows where it did.
    with contextlib.suppress(Exception):
        env_class.reset_options_model()
    with contextlib.suppress(Exception):
        env_class.tools()
    return env_class


def serve_session(channel: SyncChannel, env_class: type | None, spec: str = "") -> None:
    """Create the environment (importing ``spec`` and calling its ``prepare_shared``
    first when no class is given), say hello, serve; a failure to create it is the
    hello's error."""
    try:
        if env_class is None:  # a worker of its own: import and prepare, then make one
            env_class = prepare(spec)
        host = Host(env_class)
        hello = {"ready": True, "pid": os.getpid(), "state": host.state()}
        tools = host.own_tools()
        if tools is not None:
            hello["tools"] = tools
    except Exception as exc:
        channel.send({"ready": False, **error_reply(exc)})
        wait_for_end(channel)
        return
    channel.send(hello)
    serve(channel, host)


def main(argv: list[str] | None = None) -> None:
    spec, fd = (argv or sys.argv[1:])[:2]
    make_limits_visible()
    serve_session(SyncChannel(socket.socket(fileno=int(fd))), None, spec)


if __name__ == "__main__":
    main()
