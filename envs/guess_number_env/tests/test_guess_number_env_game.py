"""Guess the number in-process: parsing free text, hints, rewards, seeding, binary search."""

from __future__ import annotations

import pytest
from guess_number_env import GuessNumberAction, GuessNumberObservation
from guess_number_env.game import InvalidGuess, guesses_needed, hint, read_number, win_reward
from guess_number_env.server import GuessNumberEnvironment

from openenv.environment import EpisodeOver


def play(env: GuessNumberEnvironment, *messages: str) -> list[GuessNumberObservation]:
    return [env.step(GuessNumberAction(message=m)) for m in messages]


def binary_search(env: GuessNumberEnvironment, obs: GuessNumberObservation):
    """Guess the middle of what the hints allow until the game ends."""
    while not obs.done:
        middle = (obs.lower_bound + obs.upper_bound) // 2
        obs = env.step(GuessNumberAction(message=f"The middle is [{middle}]"))
        assert not obs.invalid and not obs.wasted
    return obs


@pytest.mark.parametrize(
    ("message", "number"),
    [
        ("I'll go with [50].", 50),
        ("not [10] but [20]", 20),
        ("50", 50),
        ("  **7**\n", 7),
        ("[-3]", -3),
        ("+12", 12),
        ("[007]", 7),
    ],
)
def test_read_number(message, number):
    assert read_number(message) == number


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("I think fifty", "no number found"),
        ("", "no number found"),
        ("[fifty]", "not a whole number"),
        ("[]", "not a whole number"),
        ("[4.5]", "not a whole number"),
        ("[1,000]", "not a whole number"),
        ("[٤٢]", "not a whole number"),  # digits, but not 0-9
        ("[" + "9" * 5000 + "]", "far out of range"),
    ],
)
def test_read_number_refuses(message, error):
    with pytest.raises(InvalidGuess, match=error):
        read_number(message)


def test_hint_reward_and_guesses_needed():
    assert (hint(3, 7), hint(9, 7), hint(7, 7)) == ("higher", "lower", "correct")
    assert win_reward(1, 10) == 1.0 and win_reward(10, 10) == pytest.approx(0.1)
    assert [win_reward(n, 10) for n in range(1, 11)] == sorted(
        (win_reward(n, 10) for n in range(1, 11)), reverse=True
    )
    assert (guesses_needed(1, 100), guesses_needed(1, 127), guesses_needed(1, 128)) == (7, 7, 8)
    assert guesses_needed(0, 1) == 2


# -- the environment -----------------------------------------------------------------------


def test_reset_and_hints():
    env = GuessNumberEnvironment()
    obs = env.reset(secret=37, episode_id="g")
    assert (obs.low, obs.high, obs.remaining, obs.done, obs.reward, obs.secret) == (
        1,
        100,
        100,
        False,
        None,
        None,
    )
    assert "from 1 to 100" in obs.prompt and "[50]" in obs.prompt and obs.prompt == env.rules()
    lower, higher = play(env, "Let's start in the middle: [50]", "[25]")
    assert (lower.guess, lower.hint, lower.lower_bound, lower.upper_bound) == (50, "lower", 1, 49)
    assert (higher.hint, higher.lower_bound, higher.upper_bound, higher.remaining) == (
        "higher",
        26,
        49,
        24,
    )
    assert higher.history == ["50 lower", "25 higher"] and higher.guesses_left == 8
    assert lower.reward == 0.0 and higher.reward == 0.0
    assert "My number is higher than 25" in higher.prompt and "between 26 and 49" in higher.prompt


def test_winning_pays_less_for_more_guesses():
    rewards = []
    for guesses in (["[37]"], ["[50]", "[37]"], ["[50]", "[25]", "[37]"]):
        env = GuessNumberEnvironment()
        env.reset(secret=37)
        last = play(env, *guesses)[-1]
        assert (last.won, last.done, last.hint, last.secret) == (True, True, "correct", 37)
        rewards.append(last.reward)
    assert rewards == pytest.approx([1.0, 0.9, 0.8])


def test_losing_reveals_the_secret():
    env = GuessNumberEnvironment()
    env.reset(secret=37, max_guesses=2)
    first, second = play(env, "[50]", "[25]")
    assert not first.done and second.done and not second.won and second.secret == 37
    assert second.reward == 0.0 and "my number was 37" in second.prompt


def test_wasted_guesses_use_a_guess_and_cost_reward():
    env = GuessNumberEnvironment()
    env.reset(secret=37)
    play(env, "[50]")
    again, ruled_out = play(env, "[50]", "[80]")
    assert again.wasted and ruled_out.wasted and ruled_out.guesses_used == 3
    assert again.reward == pytest.approx(-0.1) and "ruled that number out" in again.prompt


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("no idea", "no number found"),
        ("[fifty]", "not a whole number"),
        ("[0]", "0 is outside 1..100"),
        ("[101]", "101 is outside 1..100"),
    ],
)
def test_invalid_messages_use_no_guess(message, error):
    env = GuessNumberEnvironment()
    env.reset(secret=37)
    obs = env.step(GuessNumberAction(message=message))
    assert obs.invalid and error in obs.error and obs.guess is None and obs.hint is None
    assert (obs.guesses_used, obs.guesses_left, obs.invalid_left, obs.done) == (0, 10, 4, False)
    assert obs.reward == pytest.approx(-0.1) and "used no guess" in obs.prompt


def test_too_many_invalid_messages_end_the_game():
    env = GuessNumberEnvironment()
    env.reset(secret=37, max_invalid=2)
    first, second = play(env, "?", "[1000]")
    assert not first.done and second.done and not second.won and second.secret == 37


def test_sparse_rewards_have_no_penalties():
    env = GuessNumberEnvironment()
    env.reset(secret=37, reward_mode="sparse")
    rewards = [o.reward for o in play(env, "?", "[50]", "[50]", "[37]")]
    assert rewards == pytest.approx([0.0, 0.0, 0.0, 0.8])  # the third guess wins


def test_stepping_after_the_end_is_refused_and_changes_nothing():
    env = GuessNumberEnvironment()
    env.reset(secret=37)
    assert env.step(GuessNumberAction(message="[37]")).done and env.episode_over
    with pytest.raises(EpisodeOver, match="call reset"):
        env.step(GuessNumberAction(message="[37]"))
    assert env.state.guesses == [37] and env.state.step_count == 1


def test_custom_ranges():
    env = GuessNumberEnvironment()
    obs = env.reset(seed=3, low=-1000, high=-990, max_guesses=4)
    assert "from -1000 to -990" in obs.prompt
    assert -1000 <= env.secret <= -990
    assert binary_search(env, obs).won


def test_seeded_games_are_identical_and_seeds_pick_different_secrets():
    def game(seed: int) -> list[dict]:
        env = GuessNumberEnvironment()
        observations = [env.reset(seed=seed, episode_id="same")]
        observations += play(env, "[50]", "[25]", "[75]")
        return [o.model_dump() for o in observations] + [env.state.model_dump()]

    assert game(4) == game(4)
    env = GuessNumberEnvironment()
    secrets = []
    for seed in range(20):
        env.reset(seed=seed)
        secrets.append(env.secret)
        env.reset(seed=seed + 1000)
        env.reset(seed=seed)
        assert env.secret == secrets[-1]
    assert len(set(secrets)) > 12


def test_the_state_does_not_give_the_secret_away():
    env = GuessNumberEnvironment()
    env.reset(secret=9876, high=10_000)
    assert "9876" not in env.state.model_dump_json()


def test_reset_options_are_validated():
    model = GuessNumberEnvironment.reset_options_model()
    assert model.model_validate({"low": -5, "high": 5, "secret": 0}).secret == 0
    for bad in (
        {"low": "one"},
        {"high": 10**13},
        {"max_guesses": 0},
        {"max_invalid": 101},
        {"reward_mode": "dense"},
        {"colour": "red"},
    ):
        with pytest.raises(ValueError):
            model.model_validate(bad)
    env = GuessNumberEnvironment()
    with pytest.raises(ValueError, match="low < high"):
        env.reset(low=5, high=5)
    with pytest.raises(ValueError, match="outside"):
        env.reset(secret=101)


async def test_step_runs_on_the_event_loop():
    assert GuessNumberEnvironment.runs_async("step_async")
    env = GuessNumberEnvironment()
    env.reset(secret=37)
    assert (await env.step_async(GuessNumberAction(message="[37]"))).won


# -- a scripted agent ----------------------------------------------------------------------


def test_binary_search_always_wins():
    env = GuessNumberEnvironment()
    for secret in range(1, 101):  # every secret of the default game
        obs = binary_search(env, env.reset(secret=secret))
        assert obs.won and obs.guesses_used <= guesses_needed(1, 100)
        assert obs.reward >= win_reward(guesses_needed(1, 100), 10)
    for seed in range(50):  # and seeded games of other sizes, with just enough guesses
        high = 10 * seed + 1
        obs = env.reset(seed=seed, low=0, high=high, max_guesses=guesses_needed(0, high))
        assert binary_search(env, obs).won


def test_huge_messages_get_short_errors():
    env = GuessNumberEnvironment()
    env.reset(secret=37)
    for message in ("9" * 1_000_000, "[" + "x" * 999_000 + "]"):
        obs = env.step(GuessNumberAction(message=message))
        assert obs.invalid and len(obs.prompt) < 1000


def test_reward_components_name_the_shaped_parts():
    env = GuessNumberEnvironment()
    assert "reward_components" not in env.reset(secret=37).metadata
    miss = env.step(GuessNumberAction(message="[50]"))
    wasted = env.step(GuessNumberAction(message="[60]"))
    win = env.step(GuessNumberAction(message="[37]"))
    assert miss.metadata["reward_components"] == {"win_score": 0.0, "wasted_step": 0.0}
    assert wasted.metadata["reward_components"] == {"win_score": 0.0, "wasted_step": 1.0}
    assert win.metadata["reward_components"] == {
        "win_score": pytest.approx(0.8),
        "wasted_step": 0.0,
    }
    env.reset(secret=37, reward_mode="sparse")
    assert env.step(GuessNumberAction(message="[37]")).metadata == {}


def test_invalid_guess_is_the_one_of_every_text_game():
    from openenv.text_games import InvalidGuess as Shared

    assert InvalidGuess is Shared
