"""Ctrl-C while OpenApp drives Chromium: the process ends, promptly and without asyncio's noise.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group, so
Playwright's Node.js driver exits along with the Python process. Playwright used
to leave that exit's error unread, and asyncio printed "Future exception was never
retrieved" on the way out (``browser._read_driver_exit``).

Python raises the KeyboardInterrupt wherever the main thread next checks for signals:
mostly while it waits for a reply, but now and then inside the client's send. There,
websockets holds its connection lock across a generator's ``yield`` (``send_context``),
and an interrupt raised as that generator is entered or left never releases it; a
client that then closed politely waited on the lock for ever (``EnvClient._abort``).
Those two moments are rare for a real signal, so they are staged: the KeyboardInterrupt
is raised exactly there, while the driver gets its SIGINT as from a terminal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from openapp_env.server.browser import BrowserUnavailable, chromium_path


def _chromium_missing() -> str | None:
    try:
        chromium_path()
    except BrowserUnavailable as exc:
        return str(exc)
    return None


pytestmark = [
    pytest.mark.skipif(_chromium_missing() is not None, reason=str(_chromium_missing())),
    pytest.mark.timeout(200),  # a browser start, then up to 70 s for the stop and its stacks
]

READY = "ready"
STAGED_TOO_LATE = "the staged Ctrl-C never happened"

# As `openenv demo` runs it: the server in a thread of the process, its client in the
# main thread, stepping until interrupted. argv[1] says when READY is printed (and, for
# the staged moments, where the KeyboardInterrupt is raised).
DRIVE_THE_BROWSER = textwrap.dedent(
    f"""
    import contextlib, faulthandler, os, signal, sys

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the test asks for stacks if stuck

    from openapp_env import OpenAppAction, OpenAppEnv
    from openapp_env.server.environment import OpenAppEnvironment
    from openenv.server import create_app
    from openenv.server.run import BackgroundServer

    moment = sys.argv[1]
    ENTER = contextlib._GeneratorContextManager.__enter__.__code__
    EXIT = contextlib._GeneratorContextManager.__exit__.__code__


    def sending(frame):
        gen = getattr(frame.f_locals.get("self"), "gen", None)
        return getattr(gen, "__name__", "") == "send_context"  # websockets' send


    def ctrl_c():
        sys.settrace(None)
        os.killpg(0, signal.SIGINT)  # the driver's share (ours is ignored: raised here)
        raise KeyboardInterrupt


    def stage(frame, event, arg):
        # Python raises a pending KeyboardInterrupt as a function starts (here: as the
        # send leaves websockets' generator) or as a call returns (as it enters it).
        if frame.f_code is EXIT and event == "call" and moment == "leaving-send":
            if sending(frame):
                ctrl_c()
        if frame.f_code is ENTER and moment == "entering-send":
            if event == "return" and sending(frame):
                ctrl_c()
            return stage
        return None


    with BackgroundServer(create_app(OpenAppEnvironment)) as server:
        with OpenAppEnv(base_url=server.url) as client:
            client.reset(seed=0, screenshot=False, free=True)  # no step limit
            if moment.endswith("-send"):
                signal.signal(signal.SIGINT, lambda *_: None)
                sys.settrace(stage)
            steps = 0
            while True:
                for url in ("/todo", "/calendar"):
                    if steps == (4 if moment == "mid-episode" else 0):
                        print({READY!r}, flush=True)
                    client.step(OpenAppAction(action_type="goto", url=url))
                    steps += 1
                    if steps == 4 and moment.endswith("-send"):
                        sys.exit({STAGED_TOO_LATE!r})
    """
)


@pytest.mark.parametrize(
    "moment",
    [
        "after-reset",  # Ctrl-C from the terminal as the first step starts
        "mid-episode",  # ... while pages load, a few steps in
        "entering-send",  # staged: raised as the client's send takes websockets' lock
        "leaving-send",  # staged: raised as the send is about to let go of it
    ],
)
def test_ctrl_c_while_driving_the_browser_leaves_no_unretrieved_future(moment: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVE_THE_BROWSER, moment],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal's job is
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the browser is up (or the end)
        if line.strip() != READY:
            _, stderr = process.communicate(timeout=60)
            pytest.fail(f"the browser did not start: {line!r}\n{stderr}")
        if not moment.endswith("-send"):
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the driver gets it too
        try:
            _, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGUSR1)  # every thread's stack, to say where it hangs
            try:
                _, stderr = process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                _, stderr = process.communicate()
            pytest.fail(f"Ctrl-C did not stop the process (still running after 60 s):\n{stderr}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert STAGED_TOO_LATE not in stderr, stderr
    assert "KeyboardInterrupt" in stderr, stderr  # it did stop on the SIGINT
    assert "Future exception was never retrieved" not in stderr, stderr
    assert "Task exception was never retrieved" not in stderr, stderr
