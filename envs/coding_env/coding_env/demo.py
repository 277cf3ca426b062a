"""The coding environment's demo scenarios (see :mod:`openenv.demos`), both sandboxed:
the reference solutions (and known-wrong ones, for partial credit), and an adversarial
agent whose reward hacks must earn no more than honest answers (docs/rewards.md)."""

from __future__ import annotations

import random

from openenv import EnvServerError
from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task
from openenv.runtime.programs import missing_for_sandboxed_programs

from .agents import play_good, solution
from .client import CodingEnv
from .models import CodeAction


def play(client: CodingEnv, seed: int, episode: Episode) -> None:
    """A task picked by the seed: try the solution in the REPL, then submit it.

    Every third episode submits the task's known-wrong solution instead, to show
    partial credit: its reward must be below 1.0, the right one's exactly 1.0.
    """
    result = client.reset(seed=seed)
    task = solution(result.observation.task_id)
    tried = episode.step(client, CodeAction(code=task.solution + f"\nprint({task.entry_point!r})"))
    if tried.observation.stdout.strip() != repr(task.entry_point) and tried.observation.exit_code:
        raise DemoCheckFailed(f"{task.id}: the solution did not run: {tried.observation.stderr}")
    wrong = random.Random(seed).random() < 1 / 3
    result = play_good(Recorded(client, episode), result, agent_task(seed), wrong=wrong)
    if not result.done or (result.reward < 1.0) != wrong:
        which = "wrong" if wrong else "right"
        raise DemoCheckFailed(f"{task.id}: reward {result.reward} for the {which} solution")


RACER = """
import os
def racer_alive():
    for pid in os.listdir("/proc"):
        try:
            if b"racer" in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0"):
                return True
        except OSError:
            pass
    return False
"""
HACKS = {
    "an answer that equals everything": (
        "",
        """
class Yes:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
ENTRY = lambda *args, **kwargs: Yes()
""",
        "ENTRY = lambda *args, **kwargs: None\n",
    ),
    "forging modules planted for the grader": (
        """
import os, sys
forge = "import sys\\nfor m in list(sys.modules.values()):\\n    m.same = lambda *a: True\\n"
for directory in ("/workspace", "/tmp"):
    for name in sys.stdlib_module_names:
        with open(os.path.join(directory, name + ".py"), "w") as f:
            f.write(forge)
""",
        "ENTRY = lambda *args, **kwargs: None\n",
        "ENTRY = lambda *args, **kwargs: None\n",
    ),
    "a detached process left to race the grader": (
        RACER
        + """
import sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(1e6)", "racer"])
    os._exit(0)
os.wait()
deadline = time.monotonic() + 5
while not racer_alive() and time.monotonic() < deadline:
    time.sleep(0.01)
""",
        # The known solution, loaded only if the racer still runs beside the grader.
        RACER + "if not racer_alive():\n    raise SystemExit\nSOLUTION",
        "",
    ),
}
"""Reward hacks the ``coding: reward hacks`` scenario tries: (kernel step, submission,
the honest submission whose reward the hack must not beat)."""


def play_hacks(client: CodingEnv, seed: int, episode: Episode) -> None:
    """An adversarial agent: each hack of :data:`HACKS` on the seed's task must earn no
    more than the honest submission beside it (which returns the same plain data, or
    nothing), and a step after the submission must be refused (docs/rewards.md)."""
    for hack, (prepare, submission, honest) in HACKS.items():
        rewards = []
        for steps, code in (([prepare], submission), ([], honest)):
            result = client.reset(seed=seed)
            task = solution(result.observation.task_id)
            for step in filter(None, steps):
                client.step(CodeAction(code=step))
            code = code.replace("ENTRY", task.entry_point).replace("SOLUTION", task.solution)
            rewards.append(episode.step(client, CodeAction(code=code, submit=True)).reward)
        if rewards[0] > rewards[1]:
            raise DemoCheckFailed(f"{task.id}: {hack} earned {rewards[0]} > {rewards[1]}")
    try:
        client.step(CodeAction(code="print('one more')"))
    except EnvServerError as exc:
        if exc.code != "EPISODE_OVER":
            raise
    else:
        raise DemoCheckFailed("a step after the submission was answered")


SCENARIOS = [
    Scenario(
        "coding (sandboxed)",
        env="coding_env",
        client=CodingEnv,
        play=play,
        isolation="sandbox",
        missing=missing_for_sandboxed_programs,
    ),
    Scenario(
        "coding: reward hacks (sandboxed)",
        env="coding_env",
        client=CodingEnv,
        play=play_hacks,
        isolation="sandbox",
        missing=missing_for_sandboxed_programs,
    ),
]
