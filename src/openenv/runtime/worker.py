"""The process inside a sandbox: hosts one environment and answers the server.

Started as ``python -S -c <bootstrap> module:Class FD``: it imports the class,
creates the environment, says ``{"ready": true}`` on the channel at file
descriptor ``FD``, then serves one request at a time until ``close`` or EOF.

Requests: ``reset`` (``kwargs``), ``step`` (``action``, ``timeout_s``), ``state``,
``tool`` (``name``, ``arguments``), ``close``. Replies: ``{"ok": true, ...}`` with
the observation and the state after the call, or ``{"ok": false, "error":
{"type", "message"}}``. Everything is JSON (see :mod:`.channel`).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
import sys
from typing import Any

from .channel import ChannelClosed, SyncChannel


def load(spec: str) -> type:
    module_name, _, qualname = spec.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class Host:
    """Runs requests against one environment instance."""

    def __init__(self, env_class: type) -> None:
        self.env = env_class()
        self.loop = asyncio.new_event_loop()
        self.async_reset = env_class.runs_async("reset_async")
        self.async_step = env_class.runs_async("step_async")

    def _run(self, value: Any) -> Any:
        if asyncio.iscoroutine(value):
            return self.loop.run_until_complete(value)
        return value

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request["op"]
        env = self.env
        if op == "reset":
            kwargs = request.get("kwargs") or {}
            call = env.reset_async if self.async_reset else env.reset
            return self._observed(self._run(call(**kwargs)))
        if op == "step":
            action = env.action_type.model_validate(request["action"])
            call = env.step_async if self.async_step else env.step
            return self._observed(self._run(call(action, timeout_s=request.get("timeout_s"))))
        if op == "state":
            return {"ok": True, "state": env.state.model_dump(mode="json")}
        if op == "tool":
            spec = type(env).tools()[request["name"]]
            value = self.loop.run_until_complete(spec.call(env, request.get("arguments") or {}))
            return {"ok": True, "value": value, "state": env.state.model_dump(mode="json")}
        raise ValueError(f"unknown request {op!r}")

    def _observed(self, observation: Any) -> dict[str, Any]:
        return {
            "ok": True,
            "observation": observation.model_dump(mode="json"),
            "observation_type": type(observation).__name__,
            "state": self.env.state.model_dump(mode="json"),
        }

    def close(self) -> None:
        try:
            self.env.close()
        finally:
            self.loop.close()


def serve(channel: SyncChannel, host: Host) -> None:
    while True:
        try:
            request = channel.receive()
        except ChannelClosed:
            return
        if request.get("op") == "close":
            channel.send({"ok": True})
            return
        try:
            reply = host.handle(request)
        except Exception as exc:  # the environment's failure, reported, never fatal
            reply = {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc)}}
        channel.send(reply)


def main(argv: list[str] | None = None) -> None:
    spec, fd = (argv or sys.argv[1:])[:2]
    sock = socket.socket(fileno=int(fd))
    channel = SyncChannel(sock)
    try:
        host = Host(load(spec))
    except Exception as exc:
        channel.send({"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    channel.send({"ready": True, "pid": os.getpid()})
    try:
        serve(channel, host)
    finally:
        host.close()


if __name__ == "__main__":
    main()
