"""Ctrl-C while OpenApp drives Chromium: the process ends without asyncio's noise.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group, so
Playwright's Node.js driver exits along with the Python process. Playwright used
to leave that exit's error unread, and asyncio printed "Future exception was never
retrieved" on the way out (``browser._read_driver_exit``).
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


pytestmark = pytest.mark.skipif(_chromium_missing() is not None, reason=str(_chromium_missing()))

BROWSER_UP = "browser up"

# As `openenv demo` runs it: the server in a thread of the process, its client in the
# main thread, stepping until interrupted.
DRIVE_THE_BROWSER = textwrap.dedent(
    f"""
    from openapp_env import OpenAppAction, OpenAppEnv
    from openapp_env.server.environment import OpenAppEnvironment
    from openenv.server import create_app
    from openenv.server.run import BackgroundServer

    with BackgroundServer(create_app(OpenAppEnvironment)) as server:
        with OpenAppEnv(base_url=server.url) as client:
            client.reset(seed=0, screenshot=False, free=True)  # no step limit
            print({BROWSER_UP!r}, flush=True)
            while True:
                for url in ("/todo", "/calendar"):
                    client.step(OpenAppAction(action_type="goto", url=url))
    """
)


def test_ctrl_c_while_driving_the_browser_leaves_no_unretrieved_future() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVE_THE_BROWSER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal's job is
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the browser is up (or the end)
        if line.strip() != BROWSER_UP:
            _, stderr = process.communicate(timeout=60)
            pytest.fail(f"the browser did not start: {line!r}\n{stderr}")
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the driver gets it too
        try:
            _, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("Ctrl-C did not stop the process (still running after 60 s)")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert "KeyboardInterrupt" in stderr, stderr  # it did stop on the SIGINT
    assert "Future exception was never retrieved" not in stderr, stderr
    assert "Task exception was never retrieved" not in stderr, stderr
