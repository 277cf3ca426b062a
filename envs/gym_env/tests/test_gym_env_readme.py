"""The README's examples run as written (each starts its own server with from_env)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # check_env's advice
        exec(compile(BLOCKS[index], f"README.md[{index}]", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out.strip()
