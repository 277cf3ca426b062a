"""Reading an agent's answer out of free text, for environments that LLMs play in words.

An LLM agent rarely answers with the bare move; it says ``I think it's [crane]``
or ``My guess: **[42]**``. :func:`extract_answer` finds the move the same way for
every text game, and each game then checks the move against its own rules:

1. the content of the **last** ``[...]`` in the text, stripped of spaces
   (``"not [slate] but [crane]"`` -> ``"crane"``; ``"[]"`` -> ``""``);
2. otherwise the whole text, if it is a single token once surrounding spaces,
   quotes, backticks, asterisks, brackets and punctuation are stripped
   (``"Crane!"`` -> ``"Crane"``, ``"`42`"`` -> ``"42"``, ``"[crane"`` -> ``"crane"``);
3. otherwise ``None``: there is no answer to read (``"I think crane"``).

Example::

    from openenv.text import extract_answer

    extract_answer("Let me think... I'll go with [crane].")  # 'crane'
    extract_answer("  **42**\\n")                              # '42'
    extract_answer("maybe crane or slate")                    # None
"""

from __future__ import annotations

import re

__all__ = ["extract_answer"]

_BRACKETED = re.compile(r"\[([^\[\]]*)\]")
_DECORATION = " \t\r\n\"'`*_.,;:!?()<>[]"


def extract_answer(text: str) -> str | None:
    """The answer in ``text``: the last ``[...]``, else a lone token, else ``None``.

    See the module docstring for the exact rule. Case is kept; the caller
    normalises. ``extract_answer("I guess [ 17 ]")`` is ``"17"``.
    """
    bracketed = _BRACKETED.findall(text)
    if bracketed:
        return bracketed[-1].strip()
    token = text.strip(_DECORATION)
    if token and not any(ch.isspace() for ch in token):
        return token
    return None
