"""Wordle in-process: word lists, feedback, parsing free text, rewards, seeding, the solver."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from wordle_env import WordleAction, WordleObservation
from wordle_env.game import (
    InvalidGuess,
    answers,
    describe_feedback,
    guesses,
    read_guess,
    score_guess,
)
from wordle_env.server import WordleEnvironment
from wordle_env.solver import FIRST_GUESS, WordleSolver

from openenv.environment import EpisodeOver


def play(env: WordleEnvironment, *messages: str) -> list[WordleObservation]:
    return [env.step(WordleAction(message=m)) for m in messages]


# -- the word lists ----------------------------------------------------------------------


def test_word_lists():
    assert len(answers()) >= 300 and len(guesses()) >= 1000
    assert list(answers()) == sorted(set(answers()))
    assert set(answers()) <= guesses()
    for word in guesses():
        assert len(word) == 5 and word.isascii() and word.isalpha() and word.islower(), word
    assert FIRST_GUESS in answers()


# -- feedback ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("guess", "answer", "feedback"),
    [
        ("crane", "crane", "GGGGG"),
        ("crane", "react", "YYGXY"),
        ("crane", "slate", "XXGXG"),
        ("speed", "abide", "XXYXY"),  # one E in the answer: one Y, one X
        ("eerie", "there", "YXYXG"),
        ("geese", "eerie", "XGYXG"),
        ("llama", "hello", "YYXXX"),
        ("abbey", "kebab", "YYGYX"),
        ("tests", "sweet", "YYYXX"),
    ],
)
def test_score_guess(guess, answer, feedback):
    assert score_guess(guess, answer) == feedback


def test_describe_feedback():
    assert describe_feedback("crane", "XYGXX") == (
        "C: not in the word, R: wrong spot, A: right spot, N: not in the word, E: not in the word"
    )


# -- reading guesses from free text ----------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "guess"),
    [
        ("I think it's [crane]", "crane"),
        ("[CRANE]", "crane"),
        ("Not [slate]... final answer: [crane].", "crane"),
        ("crane", "crane"),
        ("  Crane!  ", "crane"),
        ("**crane**", "crane"),
        ("My guess:\n\n[ crane ]\n", "crane"),
    ],
)
def test_read_guess(message, guess):
    assert read_guess(message, guesses()) == guess


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("I think crane", "no guess found"),
        ("", "no guess found"),
        ("[]", "brackets are empty"),
        ("[cr4ne]", "not a word"),
        ("[crâne]", "not a word"),
        ("[two words]", "not a word"),
        ("[cranes]", "has 6 letters"),
        ("[cat]", "has 3 letters"),
        ("[xqzvk]", "XQZVK is not in the word list"),
        ("[crane] or maybe [xqzvk]", "not in the word list"),  # the last one counts
    ],
)
def test_read_guess_refuses(message, error):
    with pytest.raises(InvalidGuess, match=error):
        read_guess(message, guesses())


# -- the environment -----------------------------------------------------------------------


def test_reset_and_first_guess():
    env = WordleEnvironment()
    obs = env.reset(word="slate", episode_id="w")
    assert (obs.done, obs.reward, obs.tries_left, obs.board, obs.answer) == (
        False,
        None,
        6,
        [],
        None,
    )
    assert "[crane]" in obs.prompt and "6 tries" in obs.prompt
    assert obs.prompt == env.rules()
    (obs,) = play(env, "I'll start with [crane]")
    assert obs.guess == "crane" and obs.feedback == "XXGXG"
    assert obs.board == ["CRANE XXGXG"]
    assert (obs.pattern, obs.present_letters, obs.absent_letters) == (
        "__a_e",
        ["a", "e"],
        list("cnr"),
    )
    assert (obs.greens, obs.yellows, obs.new_greens, obs.new_letters) == (2, 0, 2, 2)
    assert (obs.tries_used, obs.tries_left, obs.done, obs.answer) == (1, 5, False, None)
    assert obs.progress == pytest.approx(0.3) and obs.reward == pytest.approx(0.3)
    assert "Feedback: X X G X G" in obs.prompt and "Not in the word: C N R" in obs.prompt
    assert env.state.step_count == 1 and env.state.guesses == ["crane"]


def test_solving_ends_the_game_with_return_one():
    env = WordleEnvironment()
    env.reset(word="slate")
    observations = play(env, "[crane]", "[slant]", "[slate]")
    assert [o.feedback for o in observations] == ["XXGXG", "GGGXY", "GGGGG"]
    last = observations[-1]
    assert (last.solved, last.done, last.answer, last.progress) == (True, True, "slate", 1.0)
    assert "Solved in 3 of 6 tries" in last.prompt
    assert sum(o.reward for o in observations) == pytest.approx(1.0)
    assert env.state.solved and env.state.game_over


def test_failing_reveals_the_word_and_keeps_partial_progress():
    env = WordleEnvironment()
    env.reset(word="slate", max_tries=2)
    first, second = play(env, "[crane]", "[moist]")
    assert not first.done and second.done and not second.solved
    assert second.answer == "slate" and "the word was SLATE" in second.prompt
    # greens a, e; letters a, e, then s, t: 0.1 * 2 + 0.05 * 4
    assert second.progress == pytest.approx(0.4)
    assert first.reward + second.reward == pytest.approx(0.4)


def test_invalid_messages_use_no_try_and_cost_reward():
    env = WordleEnvironment()
    env.reset(word="slate")
    obs = env.step(WordleAction(message="I have no idea"))
    assert obs.invalid and "no guess found" in obs.error and obs.reward == pytest.approx(-0.1)
    assert (obs.tries_used, obs.tries_left, obs.invalid_left, obs.guess) == (0, 6, 4, None)
    assert obs.feedback == "" and not obs.done
    assert "did not use a try" in obs.prompt
    obs = env.step(WordleAction(message="[zzzzz]"))
    assert obs.invalid and obs.error == "ZZZZZ is not in the word list"
    assert env.state.step_count == 2 and env.state.invalid_count == 2


def test_too_many_invalid_messages_end_the_game():
    env = WordleEnvironment()
    env.reset(word="slate", max_invalid=2)
    first, second = play(env, "hmm", "[cranes]")
    assert not first.done and second.done and not second.solved
    assert second.answer == "slate" and "the word was SLATE" in second.prompt


def test_repeated_guesses_use_a_try_and_are_flagged():
    env = WordleEnvironment()
    env.reset(word="slate")
    first, again = play(env, "[crane]", "[crane]")
    assert not first.repeated and again.repeated
    assert again.tries_used == 2 and again.progress_gain == 0.0
    assert again.reward == pytest.approx(-0.1)
    assert (again.new_greens, again.new_letters) == (0, 0)


def test_sparse_rewards():
    env = WordleEnvironment()
    env.reset(word="slate", reward_mode="sparse")
    rewards = [o.reward for o in play(env, "nonsense here", "[crane]", "[crane]", "[slate]")]
    assert rewards == [0.0, 0.0, 0.0, 1.0]


def test_stepping_after_the_end_is_refused_and_changes_nothing():
    env = WordleEnvironment()
    env.reset(word="slate")
    solved = env.step(WordleAction(message="[slate]"))
    assert solved.done and env.episode_over
    with pytest.raises(EpisodeOver, match="call reset"):
        env.step(WordleAction(message="[crane]"))
    assert env.state.guesses == ["slate"] and env.state.step_count == 1
    assert env.reset(word="crane").board == []


def test_a_chosen_word_outside_the_list_can_be_guessed():
    env = WordleEnvironment()
    env.reset(word="QXZZY")
    assert env.step(WordleAction(message="[qxzzy]")).solved
    env.reset(seed=1)
    assert env.step(WordleAction(message="[qxzzy]")).invalid  # only for that episode


def test_duplicate_letters_on_the_board():
    env = WordleEnvironment()
    env.reset(word="abide")
    (obs,) = play(env, "[speed]")
    assert obs.feedback == "XXYXY"
    assert obs.present_letters == ["d", "e"] and obs.absent_letters == ["p", "s"]


def test_seeded_games_are_identical_and_seeds_pick_different_words():
    def game(seed: int) -> list[dict]:
        env = WordleEnvironment()
        observations = [env.reset(seed=seed, episode_id="same")]
        observations += play(env, "[crane]", "[moist]", "[built]")
        return [o.model_dump() for o in observations] + [env.state.model_dump()]

    assert game(5) == game(5)
    env = WordleEnvironment()
    words = []
    for seed in range(20):
        env.reset(seed=seed)
        words.append(env.answer)
        env.reset(seed=seed + 1000)
        env.reset(seed=seed)  # the same word again, whatever came before
        assert env.answer == words[-1]
    assert len(set(words)) > 15


def test_the_state_does_not_give_the_word_away():
    env = WordleEnvironment()
    env.reset(word="slate")
    assert "slate" not in env.state.model_dump_json()


def test_reset_options_are_validated():
    model = WordleEnvironment.reset_options_model()
    assert model.model_validate({"word": "Crane", "max_tries": 3}).word == "Crane"
    for bad in (
        {"word": "cranes"},
        {"word": "cr4ne"},
        {"max_tries": 0},
        {"max_tries": 21},
        {"max_invalid": 0},
        {"reward_mode": "dense"},
        {"colour": "green"},
    ):
        with pytest.raises(ValueError):
            model.model_validate(bad)
    env = WordleEnvironment()  # in process too, reset checks its options
    with pytest.raises(ValidationError) as refused:
        env.reset(word="cat")
    assert refused.value.errors()[0]["loc"] == ("word",)
    with pytest.raises(ValidationError, match="max_tries"):
        env.reset(max_tries=0)


async def test_step_runs_on_the_event_loop():
    assert WordleEnvironment.runs_async("step_async")
    env = WordleEnvironment()
    env.reset(word="slate")
    assert (await env.step_async(WordleAction(message="[slate]"))).solved


# -- a scripted agent ----------------------------------------------------------------------


def test_the_solver_wins_at_least_95_of_100_seeded_games():
    env = WordleEnvironment()
    wins, tries = 0, []
    for seed in range(100):
        obs = env.reset(seed=seed)
        solver = WordleSolver()
        while not obs.done:
            guess = solver.next_guess()
            obs = env.step(WordleAction(message=f"I think it's [{guess}]"))
            assert not obs.invalid
            solver.update(guess, obs.feedback)
        wins += obs.solved
        tries.append(obs.tries_used)
    assert wins >= 95
    assert sum(tries) / len(tries) < 4.5


def test_huge_messages_get_short_errors():
    env = WordleEnvironment()
    env.reset(word="slate")
    obs = env.step(WordleAction(message="x" * 1_000_000))
    assert obs.invalid and "has 1000000 letters" in obs.error and len(obs.prompt) < 1000
    obs = env.step(WordleAction(message="thinking... " * 50_000 + "so [slate]"))
    assert obs.solved


def test_reward_components_name_the_shaped_parts():
    env = WordleEnvironment()
    assert "reward_components" not in env.reset(word="slate").metadata
    good = env.step(WordleAction(message="[crane]"))
    bad = env.step(WordleAction(message="no idea"))
    assert good.metadata["reward_components"] == {"progress_gain": 0.3, "mistakes": 0.0}
    assert bad.metadata["reward_components"] == {"progress_gain": 0.0, "mistakes": 1.0}
    for obs in (good, bad):
        parts = obs.metadata["reward_components"]
        assert obs.reward == pytest.approx(parts["progress_gain"] - 0.1 * parts["mistakes"])
    env.reset(word="slate", reward_mode="sparse")  # one rubric, no parts: no components
    assert env.step(WordleAction(message="[slate]")).metadata == {}


def test_invalid_guess_is_the_one_of_every_text_game():
    from openenv.text_games import InvalidGuess as Shared

    assert InvalidGuess is Shared and issubclass(InvalidGuess, ValueError)
