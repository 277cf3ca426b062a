"""The demo's scenarios: for each environment, how one episode is played.

A scenario is a function that plays one episode; add one with :func:`scenario`::

    @scenario("echo", env="echo_env", client="echo_env:EchoEnv")
    def play_echo(client, seed: int, episode: Episode) -> None:
        client.reset(seed=seed)
        result = episode.step(client, EchoAction(message="hi"))   # timed and recorded

The agents are the environments' own reference agents (``<package>/agents.py``,
:mod:`openenv.agents`), driven through :class:`Recorded`; a scenario adds the demo's
checks. Clients and environment packages are imported inside the functions: only
the scenarios that run need their environment installed.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..agents import grid_path
from ..runtime.programs import missing_for_sandboxed_programs


class DemoCheckFailed(AssertionError):
    """The environment answered something other than what the scenario expected."""


@dataclass
class Episode:
    """What one episode recorded: a reward and a latency per step."""

    rewards: list[float] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    artifacts: Path | None = None
    """Where the scenario may save files (screenshots), shared by its episodes (``--out``)."""

    def step(self, client: Any, action: Any) -> Any:
        """``client.step(action)``, timed; the reward is recorded (``None`` counts as 0)."""
        start = time.perf_counter()
        result = client.step(action)
        self.latencies_s.append(time.perf_counter() - start)
        self.rewards.append(float(result.reward or 0.0))
        return result

    @property
    def total_reward(self) -> float:
        return sum(self.rewards)


Play = Callable[[Any, int, Episode], None]


class Recorded:
    """A client whose steps the episode times and records: what the env's reference
    agents (``<package>/agents.py``, :mod:`openenv.agents`) drive in the demo."""

    def __init__(self, client: Any, episode: Episode) -> None:
        self.client = client
        self.episode = episode

    def reset(self, **options: Any) -> Any:
        return self.client.reset(**options)

    def step(self, action: Any) -> Any:
        return self.episode.step(self.client, action)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def agent_task(seed: int, **reset: Any) -> Any:
    """The :class:`openenv.agents.Task` of a demo episode."""
    from ..agents import Task

    return Task(f"seed-{seed}", {"seed": seed, **reset})


@dataclass(frozen=True)
class Scenario:
    """One row of the demo: which environment to serve, which client, how to play."""

    name: str
    env: str
    client: str
    play: Play
    isolation: str = "none"
    seeds_from: str | None = None
    """Play the same episodes (seeds) as this scenario; default: its own name."""
    missing: Callable[[], str | None] | None = None
    """What this machine lacks for the scenario (``None``: nothing); it is then skipped."""

    @property
    def seed_name(self) -> str:
        return self.seeds_from or self.name


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str,
    *,
    env: str,
    client: str,
    isolation: str = "none",
    seeds_from: str | None = None,
    missing: Callable[[], str | None] | None = None,
) -> Callable[[Play], Play]:
    """Register ``play(client, seed, episode)`` as the demo of ``env``.

    ``env`` is what :func:`openenv.discovery.find_environment` takes; ``client`` is
    ``"module:ClientClass"``, imported only when the demo runs; ``isolation`` is
    ``"none"`` or ``"sandbox"``; ``missing()`` says what the machine lacks for it
    (e.g. a browser), if anything.
    """

    def register(play: Play) -> Play:
        SCENARIOS[name] = Scenario(name, env, client, play, isolation, seeds_from, missing)
        return play

    return register


def chromium_missing() -> str | None:
    """Why OpenApp cannot drive a browser here."""
    try:
        from openapp_env.server.browser import BrowserUnavailable, chromium_path
    except ImportError as exc:
        return f"openapp_env is not installed ({exc})"
    try:
        chromium_path()
    except BrowserUnavailable as exc:
        return str(exc)
    return None


# -- scenarios -----------------------------------------------------------------------------


def echo_message(rng: random.Random) -> str:
    """The demo's echo policy: one to four random words (:mod:`echo_env.agents`)."""
    from echo_env.agents import echo_message as policy

    return policy(rng)


@scenario(
    "echo (sandboxed)",
    env="echo_env",
    client="echo_env:EchoEnv",
    isolation="sandbox",
    seeds_from="echo",  # the same episodes, so the same rewards, as unsandboxed
)
@scenario("echo", env="echo_env", client="echo_env:EchoEnv")  # applied first: listed first
def play_echo(client: Any, seed: int, episode: Episode) -> None:
    """Say random words until the episode ends; checks echo and reward = len(message) / 10."""
    from echo_env import EchoAction

    rng = random.Random(seed)
    result = client.reset(seed=seed)
    while not result.done:
        message = echo_message(rng)
        result = episode.step(client, EchoAction(message=message))
        if result.observation.echoed_message != message:
            raise DemoCheckFailed(f"sent {message!r}, echoed {result.observation.echoed_message!r}")
        if not math.isclose(result.reward, len(message) / 10):
            raise DemoCheckFailed(
                f"reward {result.reward} for {message!r}, expected {len(message) / 10}"
            )


@scenario(
    "coding (sandboxed)",
    env="coding_env",
    client="coding_env:CodingEnv",
    isolation="sandbox",
    missing=missing_for_sandboxed_programs,
)
def play_coding(client: Any, seed: int, episode: Episode) -> None:
    """A task picked by the seed: try the solution in the REPL, then submit it.

    Every third episode submits the task's known-wrong solution instead, to show
    partial credit: its reward must be below 1.0, the right one's exactly 1.0.
    """
    from coding_env import CodeAction
    from coding_env.agents import play_good, solution

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


@scenario(
    "coding: reward hacks (sandboxed)",
    env="coding_env",
    client="coding_env:CodingEnv",
    isolation="sandbox",
    missing=missing_for_sandboxed_programs,
)
def play_coding_hacks(client: Any, seed: int, episode: Episode) -> None:
    """An adversarial agent: each hack of :data:`HACKS` on the seed's task must earn no
    more than the honest submission beside it (which returns the same plain data, or
    nothing), and a step after the submission must be refused (docs/rewards.md)."""
    from coding_env import CodeAction
    from coding_env.server.tasks import TASKS

    from ..client import EnvServerError

    for hack, (prepare, submission, honest) in HACKS.items():
        rewards = []
        for steps, code in (([prepare], submission), ([], honest)):
            result = client.reset(seed=seed)
            task = TASKS[result.observation.task_id]
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


@scenario(
    "terminal (sandboxed)",
    env="terminal_env",
    client="terminal_env:TerminalEnv",
    isolation="sandbox",
    missing=missing_for_sandboxed_programs,
)
def play_terminal(client: Any, seed: int, episode: Episode) -> None:
    """A task picked by the seed: look around, run the known solution, evaluate (reward 1.0)."""
    from terminal_env.agents import play_good

    first = client.reset(seed=seed)
    task_id = first.observation.task_id
    result = play_good(Recorded(client, episode), first, agent_task(seed), look=True)
    if result.reward != 1.0 or not result.done:
        raise DemoCheckFailed(f"{task_id}: reward {result.reward} after the known solution")


@scenario("openapp", env="openapp_env", client="openapp_env:OpenAppEnv", missing=chromium_missing)
def play_openapp(client: Any, seed: int, episode: Episode) -> None:
    """A task picked by the seed, solved through browser actions only (reward 1.0).

    The first task solved in three steps or more is saved: its goal and a screenshot
    per step as PNG files (``--out``).
    """
    import base64

    from openapp_env.agents import play_good

    first = client.reset(seed=seed)
    task_id = first.observation.task_id
    shots = [first.observation.screenshot]

    def check(text: str, result: Any) -> None:
        if result.observation.last_action_error:
            raise DemoCheckFailed(f"{task_id}: {text}: {result.observation.last_action_error}")
        shots.append(result.observation.screenshot)

    result = play_good(Recorded(client, episode), first, agent_task(seed), on_step=check)
    if result.reward != 1.0 or not result.done:
        raise DemoCheckFailed(f"{task_id}: reward {result.reward} after its known solution")
    saved = episode.artifacts
    if saved is not None and len(shots) >= 4 and not (saved.is_dir() and any(saved.iterdir())):
        saved.mkdir(parents=True, exist_ok=True)  # the first task solved in 3 steps or more
        (saved / f"{task_id}-goal.txt").write_text(result.observation.goal + "\n")
        for number, shot in enumerate(s for s in shots if s):
            (saved / f"{task_id}-{number:02d}.png").write_bytes(base64.b64decode(shot))


# -- text games ------------------------------------------------------------------------------


@scenario("wordle (solver)", env="wordle_env", client="wordle_env:WordleEnv")
def play_wordle(client: Any, seed: int, episode: Episode) -> None:
    """The reference solver on a seeded word: solved within six tries, return 1.0.

    Every third episode first says something with no guess in it, to show that
    invalid text is an observation (no try used, reward -0.1), not an error.
    """
    from wordle_env import WordleAction
    from wordle_env.agents import play_good

    result = client.reset(seed=seed)
    expected = 1.0
    if random.Random(seed).random() < 1 / 3:
        result = episode.step(client, WordleAction(message="Hmm, let me think about it."))
        obs = result.observation
        if not obs.invalid or obs.tries_used != 0 or not math.isclose(result.reward, -0.1):
            raise DemoCheckFailed(f"chatter without a guess: {obs.error!r}, reward {result.reward}")
        expected = 0.9

    def check(guess: str, result: Any) -> None:
        obs = result.observation
        if obs.invalid or obs.guess != guess:
            raise DemoCheckFailed(f"[{guess}] was read as {obs.guess!r}: {obs.error}")

    result = play_good(Recorded(client, episode), result, agent_task(seed), on_step=check)
    obs = result.observation
    if not obs.solved:
        raise DemoCheckFailed(f"unsolved in {obs.max_tries} tries ({obs.answer}): {obs.board}")
    if not math.isclose(episode.total_reward, expected):
        raise DemoCheckFailed(f"a solved game returned {episode.total_reward}, not {expected}")


@scenario("hangman", env="hangman_env", client="hangman_env:HangmanEnv")
def play_hangman(client: Any, seed: int, episode: Episode) -> None:
    """The frequency agent on a seeded word: won with lives left, return 1.0."""
    from hangman_env.agents import play_good

    def check(guess: str, message: str, result: Any) -> None:
        if result.observation.invalid or result.observation.guess != guess:
            raise DemoCheckFailed(f"{message!r} was read as {result.observation.guess!r}")

    first = client.reset(seed=seed)
    result = play_good(Recorded(client, episode), first, agent_task(seed), on_step=check)
    obs = result.observation
    if not obs.won:
        raise DemoCheckFailed(f"lost on {obs.word!r}: {obs.pattern}, wrong {obs.wrong_letters}")
    if not math.isclose(episode.total_reward, 1.0):
        raise DemoCheckFailed(f"a won game returned {episode.total_reward}, not 1.0")


@scenario(
    "guess the number (binary search)",
    env="guess_number_env",
    client="guess_number_env:GuessNumberEnv",
)
def play_guess_number(client: Any, seed: int, episode: Episode) -> None:
    """Binary search on a seeded secret in 1..100: found within 7 guesses.

    Checks the reward: ``1 - (guesses - 1) / max_guesses`` on the winning step, 0 before.
    """
    from guess_number_env.agents import play_good

    def check(middle: int, result: Any) -> None:
        if result.observation.guess != middle or result.observation.wasted:
            raise DemoCheckFailed(f"[{middle}] was read as {result.observation.guess!r}")

    first = client.reset(seed=seed)
    result = play_good(Recorded(client, episode), first, agent_task(seed), on_step=check)
    obs = result.observation
    if not obs.won or obs.guesses_used > 7:
        raise DemoCheckFailed(f"binary search took {obs.guesses_used} guesses for {obs.secret}")
    expected = 1 - (obs.guesses_used - 1) / obs.max_guesses
    if not math.isclose(episode.total_reward, expected):
        raise DemoCheckFailed(f"reward {episode.total_reward}, expected {expected}")


# -- Gymnasium and Atari ---------------------------------------------------------------------

CARTPOLE_SOLVED_STEPS = 195
"""CartPole's classic bar: the pole kept up this many steps (as gym_env.agents)."""


@scenario("cartpole", env="gym_env", client="gym_env:GymEnv")
def play_cartpole(client: Any, seed: int, episode: Episode) -> None:
    """CartPole-v1 with the classic controller: push the way the pole leans and falls.

    Checks that the pole stays up for at least 195 steps (it usually lasts the
    500-step limit), and that every step pays 1.0, as CartPole does.
    """
    from gym_env.agents import play_good

    first = client.reset(env_id="CartPole-v1", seed=seed)
    play_good(Recorded(client, episode), first, agent_task(seed, env_id="CartPole-v1"))
    if any(reward != 1.0 for reward in episode.rewards):
        raise DemoCheckFailed(f"CartPole paid {set(episode.rewards)} for steps, not 1.0")
    steps = len(episode.rewards)
    if steps < CARTPOLE_SOLVED_STEPS:
        raise DemoCheckFailed(
            f"the pole fell after {steps} steps (seed {seed}); "
            f"the heuristic keeps it up for at least {CARTPOLE_SOLVED_STEPS}"
        )


@scenario("atari (breakout)", env="atari_env", client="atari_env:AtariEnv")
def play_breakout(client: Any, seed: int, episode: Episode) -> None:
    """Breakout for at most 200 steps, the paddle following the ball (read from RAM).

    FIRE launches the ball (again after a lost life). Checks that rewards are
    non-negative numbers, that lives never increase, and that the paddle scores
    at least one brick.
    """
    from atari_env.agents import play_good

    options = {"game": "Breakout", "obs_type": "ram", "max_episode_steps": 200}
    result = client.reset(seed=seed, **options)
    if client.action_meanings[:4] != ["NOOP", "FIRE", "RIGHT", "LEFT"]:
        raise DemoCheckFailed(f"unexpected Breakout actions {client.action_meanings}")

    def check(lives: int, result: Any) -> None:
        if not isinstance(result.reward, float) or result.reward < 0:
            raise DemoCheckFailed(f"Breakout paid {result.reward!r}")
        if result.observation.lives > lives:
            raise DemoCheckFailed(f"lives went up from {lives} to {result.observation.lives}")

    play_good(Recorded(client, episode), result, agent_task(seed, **options), on_step=check)
    if len(episode.rewards) > 200:
        raise DemoCheckFailed(f"the episode ran {len(episode.rewards)} steps, not at most 200")
    if episode.total_reward < 1:
        raise DemoCheckFailed(f"the paddle scored nothing in {len(episode.rewards)} steps")


# -- board games (openspiel_env, chess_env, connect4_env, maze_env) --------------------------


@scenario(
    "openspiel (tic_tac_toe vs mcts)", env="openspiel_env", client="openspiel_env:OpenSpielEnv"
)
def play_tic_tac_toe(client: Any, seed: int, episode: Episode) -> None:
    """Minimax from the rendered board against OpenSpiel's MCTS; perfect play never loses."""
    from openspiel_env.agents import play_tic_tac_toe

    seat = seed % 2  # half the games as x (first), half as o
    options = {"game": "tic_tac_toe", "opponent": "mcts", "mcts_simulations": 50}
    result = client.reset(seed=seed, agent_player=seat, **options)
    task = agent_task(seed, agent_player=seat, **options)
    result = play_tic_tac_toe(Recorded(client, episode), result, task)
    if result.reward not in (0.0, 1.0):
        raise DemoCheckFailed(f"perfect play lost to MCTS: {result.observation.rendering!r}")


@scenario("blackjack (basic strategy)", env="openspiel_env", client="openspiel_env:OpenSpielEnv")
def play_blackjack(client: Any, seed: int, episode: Episode) -> None:
    """OpenSpiel's blackjack, actions by name; the hand ends with +1, 0 or -1."""
    from openspiel_env.agents import play_blackjack

    first = client.reset(seed=seed, game="blackjack")
    result = play_blackjack(Recorded(client, episode), first, agent_task(seed, game="blackjack"))
    if result.reward not in (-1.0, 0.0, 1.0) or result.observation.returns != [result.reward]:
        returns = result.observation.returns
        raise DemoCheckFailed(f"blackjack paid {result.reward}, returns {returns}")


@scenario("chess (level 1)", env="chess_env", client="chess_env:ChessEnv")
def play_chess(client: Any, seed: int, episode: Episode) -> None:
    """A capture-greedy agent (moves sent in SAN) against the level-1 engine, 80 plies at most."""
    from chess_env.agents import play_good

    options = {"level": 1, "color": "white" if seed % 2 == 0 else "black", "max_plies": 80}
    first = client.reset(seed=seed, **options)
    result = play_good(Recorded(client, episode), first, agent_task(seed, **options))
    if result.reward not in (-1.0, 0.0, 1.0) or result.observation.result is None:
        raise DemoCheckFailed(f"game ended with reward {result.reward}, {result.observation}")


@scenario("connect4", env="connect4_env", client="connect4_env:Connect4Env")
def play_connect4(client: Any, seed: int, episode: Episode) -> None:
    """A 3-ply lookahead agent (the board rebuilt from the observation) against random play."""
    from connect4_env.agents import play_good

    options = {"opponent": "random", "agent_player": seed % 2}
    first = client.reset(seed=seed, **options)
    result = play_good(Recorded(client, episode), first, agent_task(seed, **options))
    expected = {"agent": 1.0, "opponent": -1.0, "draw": 0.0}.get(result.observation.winner or "")
    if result.reward != expected:
        raise DemoCheckFailed(f"winner {result.observation.winner}, reward {result.reward}")


@scenario("maze (bfs)", env="maze_env", client="maze_env:MazeEnv")
def play_maze(client: Any, seed: int, episode: Episode) -> None:
    """Plan the whole path by BFS on the full view, walk it; it must be the shortest."""
    from maze_env.agents import play_good

    first = client.reset(seed=seed, width=8, height=8)
    goal = tuple(first.observation.exit)
    path = grid_path(first.observation.view, first.observation.position, goal)
    result = play_good(Recorded(client, episode), first, agent_task(seed, width=8, height=8))
    shortest = client.state().shortest_path
    if not result.done or result.observation.position != list(goal) or len(path) != shortest:
        raise DemoCheckFailed(f"BFS took {len(path)} steps, shortest {shortest}")
    if abs(episode.total_reward - (1.0 - 0.01 * len(path))) > 1e-9:
        raise DemoCheckFailed(f"maze paid {episode.total_reward} for {len(path)} steps")
