"""Hangman in-process: the word list, parsing free text, lives, rewards, seeding, the agent."""

from __future__ import annotations

import pytest
from hangman_env import HangmanAction, HangmanObservation
from hangman_env.agent import FrequencyAgent
from hangman_env.game import InvalidGuess, mask, read_guess, words
from hangman_env.server import HangmanEnvironment
from pydantic import ValidationError

from openenv.environment import EpisodeOver


def play(env: HangmanEnvironment, *messages: str) -> list[HangmanObservation]:
    return [env.step(HangmanAction(message=m)) for m in messages]


def test_word_list():
    assert len(words()) >= 300
    assert list(words()) == sorted(set(words()))
    for word in words():
        assert 5 <= len(word) <= 11 and word.isascii() and word.isalpha() and word.islower()


def test_mask():
    assert mask("rabbit", {"b", "t", "z"}) == "__bb_t"
    assert mask("rabbit", ()) == "______"


@pytest.mark.parametrize(
    ("message", "guess"),
    [
        ("Is there an [E]?", "e"),
        ("e", "e"),
        ("E.", "e"),
        ("not [a]... [s]", "s"),
        ("It must be [Rabbit]!", "rabbit"),
        ("rabbit", "rabbit"),
    ],
)
def test_read_guess(message, guess):
    assert read_guess(message) == guess


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("maybe e or a", "no guess found"),
        ("", "no guess found"),
        ("[]", "brackets are empty"),
        ("[3]", "not a letter or a word"),
        ("[é]", "not a letter or a word"),
        ("[ice cream]", "not a letter or a word"),
    ],
)
def test_read_guess_refuses(message, error):
    with pytest.raises(InvalidGuess, match=error):
        read_guess(message)


# -- the environment -----------------------------------------------------------------------


def test_reset_and_letters():
    env = HangmanEnvironment()
    obs = env.reset(word="rabbit", episode_id="h")
    assert (obs.pattern, obs.lives_left, obs.done, obs.reward, obs.word) == (
        "______",
        6,
        False,
        None,
        None,
    )
    assert "6 letters" in obs.prompt and "_ _ _ _ _ _" in obs.prompt and obs.prompt == env.rules()
    hit, miss = play(env, "Is there a [b]?", "[z]")
    assert (hit.kind, hit.correct, hit.revealed, hit.pattern, hit.lives_left) == (
        "letter",
        True,
        2,
        "__bb__",
        6,
    )
    assert hit.progress == pytest.approx(0.5 * 2 / 6) and hit.reward == pytest.approx(hit.progress)
    assert "yes, 2 of them" in hit.prompt and "Word: _ _ B B _ _" in hit.prompt
    assert (miss.correct, miss.revealed, miss.lives_left, miss.wrong_letters) == (
        False,
        0,
        5,
        ["z"],
    )
    assert miss.reward == 0.0 and miss.guessed_letters == ["b", "z"]
    assert env.state.step_count == 2 and env.state.lives_left == 5


def test_winning_letter_by_letter_returns_one():
    env = HangmanEnvironment()
    env.reset(word="rabbit")
    observations = play(env, "[r]", "[a]", "[x]", "[b]", "[i]", "[t]")
    last = observations[-1]
    assert (last.won, last.done, last.word, last.pattern, last.lives_left) == (
        True,
        True,
        "rabbit",
        "rabbit",
        5,
    )
    assert sum(o.reward for o in observations) == pytest.approx(1.0)
    assert "You won with 5 of 6 lives left" in last.prompt


def test_guessing_the_word():
    env = HangmanEnvironment()
    env.reset(word="rabbit")
    wrong, right = play(env, "[carrot]", "I'm sure: [RABBIT]")
    assert (wrong.kind, wrong.correct, wrong.lives_left, wrong.wrong_words) == (
        "word",
        False,
        5,
        ["carrot"],
    )
    assert right.won and right.pattern == "rabbit" and right.revealed == 6
    assert right.reward == pytest.approx(1.0)


def test_losing_reveals_the_word_and_keeps_partial_progress():
    env = HangmanEnvironment()
    env.reset(word="rabbit", lives=2)
    observations = play(env, "[b]", "[x]", "[y]")
    last = observations[-1]
    assert last.done and not last.won and last.lives_left == 0 and last.word == "rabbit"
    assert "the word was RABBIT" in last.prompt
    assert sum(o.reward for o in observations) == pytest.approx(0.5 * 2 / 6)


@pytest.mark.parametrize(
    ("message", "error", "repeated"),
    [
        ("no idea", "no guess found", False),
        ("[b]", "the letter B was tried before", True),
        ("[carrot]", "the word CARROT was tried before", True),
        ("[rabbits]", "'RABBITS' has 7 letters; the word has 6", False),
        ("[42]", "not a letter or a word", False),
    ],
)
def test_invalid_messages_cost_no_life(message, error, repeated):
    env = HangmanEnvironment()
    env.reset(word="rabbit")
    play(env, "[b]", "[carrot]")
    obs = env.step(HangmanAction(message=message))
    assert obs.invalid and obs.repeated == repeated and error in obs.error
    assert obs.lives_left == 5 and obs.pattern == "__bb__" and obs.guess is None
    assert obs.reward == pytest.approx(-0.1) and obs.invalid_left == 4 and not obs.done
    assert "cost no life" in obs.prompt


def test_too_many_invalid_messages_end_the_game():
    env = HangmanEnvironment()
    env.reset(word="rabbit", max_invalid=2)
    first, second = play(env, "hmm what", "[]")
    assert not first.done and second.done and not second.won and second.word == "rabbit"


def test_sparse_rewards():
    env = HangmanEnvironment()
    env.reset(word="rabbit", reward_mode="sparse")
    rewards = [o.reward for o in play(env, "???", "[b]", "[b]", "[rabbit]")]
    assert rewards == [0.0, 0.0, 0.0, 1.0]


def test_stepping_after_the_end_is_refused_and_changes_nothing():
    env = HangmanEnvironment()
    env.reset(word="rabbit")
    assert env.step(HangmanAction(message="[rabbit]")).done and env.episode_over
    with pytest.raises(EpisodeOver, match="call reset"):
        env.step(HangmanAction(message="[e]"))
    assert env.state.guessed_letters == [] and env.state.step_count == 1
    assert env.state.lives_left == 6 and env.state.invalid_count == 0


def test_seeded_games_are_identical_and_seeds_pick_different_words():
    def game(seed: int) -> list[dict]:
        env = HangmanEnvironment()
        observations = [env.reset(seed=seed, episode_id="same")]
        observations += play(env, "[e]", "[a]", "[s]", "[t]")
        return [o.model_dump() for o in observations] + [env.state.model_dump()]

    assert game(9) == game(9)
    env = HangmanEnvironment()
    picked = []
    for seed in range(20):
        env.reset(seed=seed)
        picked.append(env.word)
        env.reset(seed=seed + 1000)
        env.reset(seed=seed)
        assert env.word == picked[-1]
    assert len(set(picked)) > 15


def test_the_state_does_not_give_the_word_away():
    env = HangmanEnvironment()
    env.reset(word="rabbit")
    assert "rabbit" not in env.state.model_dump_json()


def test_reset_options_are_validated():
    model = HangmanEnvironment.reset_options_model()
    assert model.model_validate({"word": "Xylophone", "lives": 10}).lives == 10
    for bad in (
        {"word": "a"},
        {"word": "ice cream"},
        {"lives": 0},
        {"lives": 27},
        {"max_invalid": 0},
        {"reward_mode": "dense"},
        {"colour": "red"},
    ):
        with pytest.raises(ValueError):
            model.model_validate(bad)
    env = HangmanEnvironment()  # in process too, reset checks its options
    with pytest.raises(ValidationError) as refused:
        env.reset(word="x")
    assert refused.value.errors()[0]["loc"] == ("word",)
    with pytest.raises(ValidationError, match="lives"):
        env.reset(lives=0)


async def test_step_runs_on_the_event_loop():
    assert HangmanEnvironment.runs_async("step_async")
    env = HangmanEnvironment()
    env.reset(word="rabbit")
    assert (await env.step_async(HangmanAction(message="[rabbit]"))).won


# -- a scripted agent ----------------------------------------------------------------------


def test_the_frequency_agent_wins_most_seeded_games():
    env = HangmanEnvironment()
    agent = FrequencyAgent()
    wins = 0
    for seed in range(100):
        obs = env.reset(seed=seed)
        while not obs.done:
            guess = agent.next_guess(obs.pattern, obs.guessed_letters, obs.wrong_words)
            obs = env.step(HangmanAction(message=f"I guess [{guess}]"))
            assert not obs.invalid
        wins += obs.won
    assert wins >= 95


def test_the_agent_falls_back_on_english_frequencies():
    agent = FrequencyAgent(vocabulary=[])
    assert agent.next_guess("______", []) == "e"
    assert agent.next_guess("______", ["e", "t"]) == "a"
    fitting = FrequencyAgent().candidates("__bb__", ["b", "z"])
    assert "rabbit" in fitting and all(w[2:4] == "bb" and "z" not in w for w in fitting)


def test_huge_messages_get_short_errors():
    env = HangmanEnvironment()
    env.reset(word="rabbit")
    for message in ("r" * 1_000_000, "[" + "7" * 999_000 + "]"):
        obs = env.step(HangmanAction(message=message))
        assert obs.invalid and len(obs.prompt) < 1000


def test_reward_components_name_the_shaped_parts():
    env = HangmanEnvironment()
    assert "reward_components" not in env.reset(word="rabbit").metadata
    hit = env.step(HangmanAction(message="[b]"))
    again = env.step(HangmanAction(message="[b]"))
    assert hit.metadata["reward_components"] == {
        "progress_gain": pytest.approx(0.5 * 2 / 6),
        "invalid": 0.0,
    }
    assert again.metadata["reward_components"] == {"progress_gain": 0.0, "invalid": 1.0}
    assert again.reward == pytest.approx(-0.1)
    env.reset(word="rabbit", reward_mode="sparse")
    assert env.step(HangmanAction(message="[b]")).metadata == {}


def test_invalid_guess_is_the_one_of_every_text_game():
    from hangman_env.game import RepeatedGuess

    from openenv.text_games import InvalidGuess as Shared

    assert InvalidGuess is Shared and issubclass(RepeatedGuess, Shared)
