"""openenv.text.extract_answer: how text games read a move out of an agent's free text."""

from __future__ import annotations

import pytest

from openenv.text import extract_answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I think it's [crane]", "crane"),
        ("not [slate] but [crane].", "crane"),  # the last brackets count
        ("[[crane]]", "crane"),
        ("my guess: [ Crane ]", "Crane"),  # stripped, case kept
        ("[]", ""),
        ("[two words]", "two words"),  # the game decides what is valid
        ("[crane] is my answer, no doubt", "crane"),
        ("crane", "crane"),
        ("  CRANE!\n", "CRANE"),
        ("**crane**", "crane"),
        ("`42`", "42"),
        ('"-7".', "-7"),
        ("[crane", "crane"),  # an unclosed bracket around a lone token
        ("e", "e"),
        ("I think crane", None),
        ("", None),
        ("   ", None),
        ("?!", None),
        ("crane slate", None),
    ],
)
def test_extract_answer(text: str, expected: str | None) -> None:
    assert extract_answer(text) == expected


def test_long_text_is_fine() -> None:
    text = "thinking " * 10_000 + "so: [crane]"
    assert extract_answer(text) == "crane"
    assert extract_answer("[" * 50_000) is None  # no bracket pair, nothing left once stripped
    assert extract_answer("[" + "a" * 50_000) == "a" * 50_000
