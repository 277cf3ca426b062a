"""The submission runner: the agent's code, loaded in a process of its own, asked for values.

This file runs *inside the agent's confinement*, as ``python -S -s -c <this
source>`` (:class:`openenv.grading.submission.Submission` starts it). Everything in
this process — this loop included — is the agent's to change; nothing here is
trusted. The grader, in another process, sends it inputs and expressions and
judges the plain data that comes back (:mod:`openenv.grading.values`): an agent
that rewrites this loop can send any data it likes, which is no more than any
submission can return, and it never sees what is expected.

Requests arrive as JSON lines on file descriptor 3; each reply is one JSON line
there, echoing the request's ``id``:

* ``{"op": "load", "code", "path", "seed"}`` — set ``sys.path``, seed ``random``,
  run the submission as a module named ``submission``;
* ``{"op": "test", "inputs", "setup"}`` — a fresh namespace (a copy of the
  submission's, plus ``inputs``), then ``setup`` run in it;
* ``{"op": "eval", "expr"}`` — evaluate ``expr`` in that namespace.

Replies: ``{"ok": true[, "value": <tagged JSON>]}``, or ``{"ok": false, "raised":
{"type", "mro"}}`` for an exception, or ``{"ok": false, "unencodable": why}`` for
a value that is not plain data (a subclass of a built-in type included).
Standard input, output and error are ``/dev/null``.
"""

import sys

# `python -c` puts the working directory (the agent's workspace) first on sys.path:
# drop it before anything else is imported, so a file there cannot replace one.
sys.path[:] = [entry for entry in sys.path if entry]

import base64  # noqa: E402
import builtins  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402

MAX_DEPTH = 200


class Unencodable(Exception):
    pass


def tagged(value, depth=0):
    if depth > MAX_DEPTH:
        raise Unencodable(f"nested deeper than {MAX_DEPTH}")
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is list:
        return [tagged(item, depth + 1) for item in value]
    if kind is tuple:
        return {"tuple": [tagged(item, depth + 1) for item in value]}
    if kind is dict:
        return {"dict": [[tagged(k, depth + 1), tagged(v, depth + 1)] for k, v in value.items()]}
    if kind is set or kind is frozenset:
        return {kind.__name__: [tagged(item, depth + 1) for item in value]}
    if kind is bytes:
        return {"bytes": base64.b64encode(value).decode()}
    raise Unencodable(f"a {kind.__name__} is not plain data")


def untagged(raw):
    if isinstance(raw, list):
        return [untagged(item) for item in raw]
    if not isinstance(raw, dict):
        return raw
    ((tag, body),) = raw.items()
    if tag == "bytes":
        return base64.b64decode(body)
    items = [untagged(item) for item in body]
    if tag == "tuple":
        return tuple(items)
    if tag == "set":
        return set(items)
    if tag == "frozenset":
        return frozenset(items)
    return {key: value for key, value in items}


def raised(exc):
    return {
        "ok": False,
        "raised": {"type": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__]},
    }


def answer(request, module, test):
    op = request["op"]
    if op == "load":
        sys.path[:] = request["path"]
        random.seed(request["seed"])
        module.clear()
        module.update({"__name__": "submission", "__builtins__": builtins})
        exec(compile(request["code"], "<submission>", "exec"), module)
        return {"ok": True}
    if op == "test":
        test.clear()
        test.update(module)
        test.update(untagged(request["inputs"]))
        exec(compile(request["setup"], "<setup>", "exec"), test)
        return {"ok": True}
    value = eval(compile(request["expr"], "<check>", "eval"), test)
    try:
        return {"ok": True, "value": tagged(value)}
    except Unencodable as exc:
        return {"ok": False, "unencodable": str(exc)}
    except RecursionError:
        return {"ok": False, "unencodable": "too deeply nested"}


def _lose_channel():
    try:
        os.close(3)
    except OSError:  # a fork of a fork: already gone
        pass


def main():
    channel = socket.socket(fileno=3)
    os.set_inheritable(3, False)
    runner = os.getpid()
    # A process the submission forks returns into this loop when its call ends: it
    # must not answer, so it loses the channel and leaves.
    os.register_at_fork(after_in_child=_lose_channel)
    module, test = {}, {}
    for line in channel.makefile("rb"):
        request = json.loads(line)
        try:
            reply = answer(request, module, test)
        except BaseException as exc:  # the submission's exception, SystemExit included
            reply = raised(exc)
        if os.getpid() != runner:
            os._exit(0)
        reply["id"] = request["id"]
        try:
            data = json.dumps(reply).encode() + b"\n"
        except (TypeError, ValueError, RecursionError) as exc:
            data = json.dumps({"id": request["id"], "ok": False, "unencodable": str(exc)[:200]})
            data = data.encode() + b"\n"
        channel.sendall(data)


if __name__ == "__main__":
    main()
