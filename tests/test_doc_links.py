"""Every relative link in the docs points at a file or folder that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted(
    [
        ROOT / "README.md",
        ROOT / "CONTRIBUTING.md",
        *ROOT.glob("docs/**/*.md"),
        *ROOT.glob("envs/*/README.md"),
    ]
)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def relative_links(doc: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)  # code blocks are not links
    links = (m.group(1) for m in LINK.finditer(text))
    return [link for link in links if not re.match(r"[a-z]+:|#", link)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path):
    broken = [
        link for link in relative_links(doc) if not (doc.parent / link.split("#")[0]).exists()
    ]
    assert broken == [], f"{doc.relative_to(ROOT)}: broken links {broken}"


def test_the_architecture_page_links_each_layer():
    links = relative_links(ROOT / "docs" / "architecture.md")
    for layer in (
        "errors.py",
        "protocol.py",
        "server/websocket.py",
        "server/sessions.py",
        "runtime/sandbox.py",
        "client/core.py",
        "environment.py",
    ):
        assert any(link.endswith(layer) for link in links), layer
