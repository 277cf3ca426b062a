"""The demo's scenarios: for each environment, how one episode is played.

A scenario is a function that plays one episode; add one with :func:`scenario`::

    @scenario("echo", env="echo_env", client="echo_env:EchoEnv")
    def play_echo(client, seed: int, episode: Episode) -> None:
        client.reset(seed=seed)
        result = episode.step(client, EchoAction(message="hi"))   # timed and recorded

Clients and environment packages are imported inside the functions: only the
scenarios that run need their environment installed.
"""

from __future__ import annotations

import functools
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

ECHO_WORDS = ("hello", "world", "reward", "agent", "policy", "echo", "step", "rl", "openenv")


def echo_message(rng: random.Random) -> str:
    """The demo's echo policy: one to four random words."""
    return " ".join(rng.choices(ECHO_WORDS, k=rng.randint(1, 4)))


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
    from coding_env.server.tasks import TASKS

    result = client.reset(seed=seed)
    task = TASKS[result.observation.task_id]
    tried = episode.step(client, CodeAction(code=task.solution + f"\nprint({task.entry_point!r})"))
    if tried.observation.stdout.strip() != repr(task.entry_point) and tried.observation.exit_code:
        raise DemoCheckFailed(f"{task.id}: the solution did not run: {tried.observation.stderr}")
    wrong = random.Random(seed).random() < 1 / 3
    code = task.wrong_solution if wrong else task.solution
    result = episode.step(client, CodeAction(code=code, submit=True))
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
    from terminal_env import TerminalAction
    from terminal_env.server.tasks import TASKS

    result = client.reset(seed=seed)
    task = TASKS[result.observation.task_id]
    episode.step(client, TerminalAction(command="ls -la"))
    done = episode.step(client, TerminalAction(command=task.solution))
    if done.observation.timed_out:
        raise DemoCheckFailed(f"{task.id}: the solution timed out")
    result = episode.step(client, TerminalAction(evaluate=True))
    if result.reward != 1.0 or not result.done:
        raise DemoCheckFailed(f"{task.id}: reward {result.reward} after the known solution")


@scenario("openapp", env="openapp_env", client="openapp_env:OpenAppEnv", missing=chromium_missing)
def play_openapp(client: Any, seed: int, episode: Episode) -> None:
    """A task picked by the seed, solved through browser actions only (reward 1.0).

    The first task solved in three steps or more is saved: its goal and a screenshot
    per step as PNG files (``--out``).
    """
    import base64

    from openapp_env import OpenAppAction
    from openapp_env.server.environment import TASKS, prepare

    result = client.reset(seed=seed)
    task = TASKS[result.observation.task_id]
    db, params = prepare(task, seed)
    db.close()
    shots = [result.observation.screenshot]
    for text in task.solution(params):
        result = episode.step(client, OpenAppAction(action=text))
        if result.observation.last_action_error:
            raise DemoCheckFailed(f"{task.id}: {text}: {result.observation.last_action_error}")
        shots.append(result.observation.screenshot)
    if result.reward != 1.0 or not result.done:
        raise DemoCheckFailed(f"{task.id}: reward {result.reward} after its known solution")
    saved = episode.artifacts
    if saved is not None and len(shots) >= 4 and not (saved.is_dir() and any(saved.iterdir())):
        saved.mkdir(parents=True, exist_ok=True)  # the first task solved in 3 steps or more
        (saved / f"{task.id}-goal.txt").write_text(result.observation.goal + "\n")
        for number, shot in enumerate(s for s in shots if s):
            (saved / f"{task.id}-{number:02d}.png").write_bytes(base64.b64decode(shot))


# -- text games ------------------------------------------------------------------------------


@scenario("wordle (solver)", env="wordle_env", client="wordle_env:WordleEnv")
def play_wordle(client: Any, seed: int, episode: Episode) -> None:
    """The reference solver on a seeded word: solved within six tries, return 1.0.

    Every third episode first says something with no guess in it, to show that
    invalid text is an observation (no try used, reward -0.1), not an error.
    """
    from wordle_env import WordleAction
    from wordle_env.solver import WordleSolver

    result = client.reset(seed=seed)
    expected = 1.0
    if random.Random(seed).random() < 1 / 3:
        result = episode.step(client, WordleAction(message="Hmm, let me think about it."))
        obs = result.observation
        if not obs.invalid or obs.tries_used != 0 or not math.isclose(result.reward, -0.1):
            raise DemoCheckFailed(f"chatter without a guess: {obs.error!r}, reward {result.reward}")
        expected = 0.9
    solver = WordleSolver()
    while not result.done:
        guess = solver.next_guess()
        result = episode.step(client, WordleAction(message=f"I think it's [{guess}]"))
        obs = result.observation
        if obs.invalid or obs.guess != guess:
            raise DemoCheckFailed(f"[{guess}] was read as {obs.guess!r}: {obs.error}")
        solver.update(guess, obs.feedback)
    if not obs.solved:
        raise DemoCheckFailed(f"unsolved in {obs.max_tries} tries ({obs.answer}): {obs.board}")
    if not math.isclose(episode.total_reward, expected):
        raise DemoCheckFailed(f"a solved game returned {episode.total_reward}, not {expected}")


@scenario("hangman", env="hangman_env", client="hangman_env:HangmanEnv")
def play_hangman(client: Any, seed: int, episode: Episode) -> None:
    """The frequency agent on a seeded word: won with lives left, return 1.0."""
    from hangman_env import HangmanAction
    from hangman_env.agent import FrequencyAgent

    agent = FrequencyAgent()
    result = client.reset(seed=seed)
    while not result.done:
        obs = result.observation
        guess = agent.next_guess(obs.pattern, obs.guessed_letters, obs.wrong_words)
        message = f"Is there a [{guess}]?" if len(guess) == 1 else f"It must be [{guess}]!"
        result = episode.step(client, HangmanAction(message=message))
        if result.observation.invalid or result.observation.guess != guess:
            raise DemoCheckFailed(f"{message!r} was read as {result.observation.guess!r}")
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
    from guess_number_env import GuessNumberAction

    result = client.reset(seed=seed)
    while not result.done:
        obs = result.observation
        middle = (obs.lower_bound + obs.upper_bound) // 2
        result = episode.step(client, GuessNumberAction(message=f"I'll guess [{middle}]"))
        if result.observation.guess != middle or result.observation.wasted:
            raise DemoCheckFailed(f"[{middle}] was read as {result.observation.guess!r}")
    obs = result.observation
    if not obs.won or obs.guesses_used > 7:
        raise DemoCheckFailed(f"binary search took {obs.guesses_used} guesses for {obs.secret}")
    expected = 1 - (obs.guesses_used - 1) / obs.max_guesses
    if not math.isclose(episode.total_reward, expected):
        raise DemoCheckFailed(f"reward {episode.total_reward}, expected {expected}")


# -- Gymnasium and Atari ---------------------------------------------------------------------

CARTPOLE_SOLVED_STEPS = 195
"""CartPole's classic bar: the pole kept up this many steps."""


@scenario("cartpole", env="gym_env", client="gym_env:GymEnv")
def play_cartpole(client: Any, seed: int, episode: Episode) -> None:
    """CartPole-v1 with the classic controller: push the way the pole leans and falls.

    Checks that the pole stays up for at least 195 steps (it usually lasts the
    500-step limit), and that every step pays 1.0, as CartPole does.
    """
    from gym_env import GymAction

    result = client.reset(env_id="CartPole-v1", seed=seed)
    while not result.done:
        _, _, angle, angular_velocity = client.decode(result.observation)
        action = 1 if angle + angular_velocity > 0 else 0
        result = episode.step(client, GymAction(action=action))
        if result.reward != 1.0:
            raise DemoCheckFailed(f"CartPole paid {result.reward} for a step, not 1.0")
    steps = len(episode.rewards)
    if steps < CARTPOLE_SOLVED_STEPS:
        raise DemoCheckFailed(
            f"the pole fell after {steps} steps (seed {seed}); "
            f"the heuristic keeps it up for at least {CARTPOLE_SOLVED_STEPS}"
        )


BREAKOUT_RAM = {"paddle_x": 72, "ball_x": 99, "ball_y": 101}
"""Where Breakout keeps the paddle and the ball in the console's 128 bytes of RAM."""


@scenario("atari (breakout)", env="atari_env", client="atari_env:AtariEnv")
def play_breakout(client: Any, seed: int, episode: Episode) -> None:
    """Breakout for at most 200 steps, the paddle following the ball (read from RAM).

    FIRE launches the ball (again after a lost life). Checks that rewards are
    non-negative numbers, that lives never increase, and that the paddle scores
    at least one brick.
    """
    from atari_env import AtariAction

    result = client.reset(game="Breakout", seed=seed, obs_type="ram", max_episode_steps=200)
    if client.action_meanings[:4] != ["NOOP", "FIRE", "RIGHT", "LEFT"]:
        raise DemoCheckFailed(f"unexpected Breakout actions {client.action_meanings}")
    lives, launch = result.observation.lives, True
    while not result.done:
        ram = result.observation.obs
        paddle, ball_x, ball_y = (ram[BREAKOUT_RAM[k]] for k in ("paddle_x", "ball_x", "ball_y"))
        if launch or ball_y == 0:
            action, launch = 1, False  # FIRE
        else:
            action = 2 if ball_x > paddle + 8 else 3 if ball_x < paddle + 8 else 0
        result = episode.step(client, AtariAction(action=action))
        if not isinstance(result.reward, float) or result.reward < 0:
            raise DemoCheckFailed(f"Breakout paid {result.reward!r}")
        if result.observation.lives > lives:
            raise DemoCheckFailed(f"lives went up from {lives} to {result.observation.lives}")
        launch = result.observation.lives < lives
        lives = result.observation.lives
    if len(episode.rewards) > 200:
        raise DemoCheckFailed(f"the episode ran {len(episode.rewards)} steps, not at most 200")
    if episode.total_reward < 1:
        raise DemoCheckFailed(f"the paddle scored nothing in {len(episode.rewards)} steps")


# -- board games (openspiel_env, chess_env, connect4_env, maze_env) --------------------------

TTT_LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))


@functools.cache
def _ttt_value(board: str, me: str, to_move: str) -> int:
    """Minimax value of a tic-tac-toe board ('x', 'o', '.') for ``me``: +1, 0 or -1."""
    for a, b, c in TTT_LINES:
        if board[a] != "." and board[a] == board[b] == board[c]:
            return 1 if board[a] == me else -1
    if "." not in board:
        return 0
    other = "o" if to_move == "x" else "x"
    values = [
        _ttt_value(board[:i] + to_move + board[i + 1 :], me, other)
        for i, cell in enumerate(board)
        if cell == "."
    ]
    return max(values) if to_move == me else min(values)


@scenario(
    "openspiel (tic_tac_toe vs mcts)", env="openspiel_env", client="openspiel_env:OpenSpielEnv"
)
def play_tic_tac_toe(client: Any, seed: int, episode: Episode) -> None:
    """Minimax from the rendered board against OpenSpiel's MCTS; perfect play never loses."""
    from openspiel_env import OpenSpielAction

    seat = seed % 2  # half the games as x (first), half as o
    me, other = ("x", "o") if seat == 0 else ("o", "x")
    result = client.reset(
        seed=seed, game="tic_tac_toe", opponent="mcts", mcts_simulations=50, agent_player=seat
    )
    while not result.done:
        board = result.observation.rendering.replace("\n", "")
        move = max(
            result.observation.legal_actions,
            key=lambda i: _ttt_value(board[:i] + me + board[i + 1 :], me, other),
        )
        result = episode.step(client, OpenSpielAction(action_id=move))
    if result.reward not in (0.0, 1.0):
        raise DemoCheckFailed(f"perfect play lost to MCTS: {result.observation.rendering!r}")


BLACKJACK_VALUES = {"A": 11, "T": 10, "J": 10, "Q": 10, "K": 10} | {str(n): n for n in range(2, 10)}


def blackjack_basic_strategy(rendering: str) -> str:
    """Basic strategy: "Hit" or "Stand" (OpenSpiel's blackjack has no doubling or splitting)."""

    def cards(prefix: str) -> list[int]:
        line = next(x for x in rendering.splitlines() if x.startswith(prefix))
        return [BLACKJACK_VALUES[c[1:]] for c in line.split("Cards:")[1].split() if c != "??"]

    mine, dealer = cards("Player 0"), cards("Dealer")[0]
    total, soft_aces = sum(mine), mine.count(11)
    while total > 21 and soft_aces:
        total, soft_aces = total - 10, soft_aces - 1
    if soft_aces:
        hit = total <= 17 or (total == 18 and dealer >= 9)
    else:
        hit = (
            total <= 11
            or (total == 12 and dealer not in (4, 5, 6))
            or (total <= 16 and dealer >= 7)
        )
    return "Hit" if hit else "Stand"


@scenario("blackjack (basic strategy)", env="openspiel_env", client="openspiel_env:OpenSpielEnv")
def play_blackjack(client: Any, seed: int, episode: Episode) -> None:
    """OpenSpiel's blackjack, actions by name; the hand ends with +1, 0 or -1."""
    from openspiel_env import OpenSpielAction

    result = client.reset(seed=seed, game="blackjack")
    while not result.done:
        move = blackjack_basic_strategy(result.observation.rendering)
        result = episode.step(client, OpenSpielAction(action_str=move))
    if result.reward not in (-1.0, 0.0, 1.0) or result.observation.returns != [result.reward]:
        returns = result.observation.returns
        raise DemoCheckFailed(f"blackjack paid {result.reward}, returns {returns}")


@scenario("chess (level 1)", env="chess_env", client="chess_env:ChessEnv")
def play_chess(client: Any, seed: int, episode: Episode) -> None:
    """A capture-greedy agent (moves sent in SAN) against the level-1 engine, 80 plies at most."""
    import chess
    from chess_env import ChessAction
    from chess_env.server.engine import capture_gain

    color = "white" if seed % 2 == 0 else "black"
    result = client.reset(seed=seed, level=1, color=color, max_plies=80)
    rng = random.Random(seed)
    while not result.done:
        board = chess.Board(result.observation.fen)
        moves = [chess.Move.from_uci(m) for m in result.observation.legal_moves]
        rng.shuffle(moves)
        move = max(moves, key=lambda m: capture_gain(board, m))
        result = episode.step(client, ChessAction(move=board.san(move)))  # SAN on the wire
    if result.reward not in (-1.0, 0.0, 1.0) or result.observation.result is None:
        raise DemoCheckFailed(f"game ended with reward {result.reward}, {result.observation}")


@scenario("connect4", env="connect4_env", client="connect4_env:Connect4Env")
def play_connect4(client: Any, seed: int, episode: Episode) -> None:
    """A 3-ply lookahead agent (the board rebuilt from the observation) against random play."""
    from connect4_env import Connect4Action
    from connect4_env.server import Board, best_move

    rng = random.Random(seed)
    result = client.reset(seed=seed, opponent="random", agent_player=seed % 2)
    while not result.done:
        column = best_move(Board.from_rows(result.observation.board), 3, rng)
        result = episode.step(client, Connect4Action(column=column))
    expected = {"agent": 1.0, "opponent": -1.0, "draw": 0.0}.get(result.observation.winner or "")
    if result.reward != expected:
        raise DemoCheckFailed(f"winner {result.observation.winner}, reward {result.reward}")


@scenario("maze (bfs)", env="maze_env", client="maze_env:MazeEnv")
def play_maze(client: Any, seed: int, episode: Episode) -> None:
    """Plan the whole path by BFS on the full view, walk it; it must be the shortest."""
    from collections import deque

    from maze_env import MazeAction

    moves = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
    result = client.reset(seed=seed, width=8, height=8)
    grid = result.observation.view
    start, goal = tuple(result.observation.position), tuple(result.observation.exit)
    came: dict[tuple[int, ...], tuple[tuple[int, ...], str] | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        for name, (dr, dc) in moves.items():
            nxt = (cell[0] + dr, cell[1] + dc)
            if grid[nxt[0]][nxt[1]] != "#" and nxt not in came:
                came[nxt] = (cell, name)
                queue.append(nxt)
    path: list[str] = []
    cell = goal
    while (previous := came[cell]) is not None:
        cell, name = previous
        path.append(name)
    for name in reversed(path):
        result = episode.step(client, MazeAction(move=name))
    shortest = client.state().shortest_path
    if not result.done or result.observation.position != list(goal) or len(path) != shortest:
        raise DemoCheckFailed(f"BFS took {len(path)} steps, shortest {shortest}")
    if abs(episode.total_reward - (1.0 - 0.01 * len(path))) > 1e-9:
        raise DemoCheckFailed(f"maze paid {episode.total_reward} for {len(path)} steps")
