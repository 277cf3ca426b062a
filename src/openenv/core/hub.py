"""Hugging Face Hub ids where OpenEnv 0.10 takes them (``from_env("owner/space")``).

A target is a Hub id when it is ``owner/name`` and no such folder exists here; an
installed environment name or a folder always wins. A Space's package is downloaded
with ``huggingface_hub`` (``$HF_ENDPOINT``, ``$HF_TOKEN`` apply) and served from that
folder by ``openenv serve``; its Python dependencies are not installed for it (code
from the Hub is not run through pip behind the user's back: install them first).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ConnectError, EnvironmentNotFound

_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


def is_hub_id(target: str | Path) -> bool:
    """``owner/name`` that names no folder here."""
    text = str(target)
    parts = text.split("/")
    if len(parts) != 2 or not all(_PART.fullmatch(part) for part in parts):
        return False
    return not Path(text).exists()


def space_package(repo_id: str) -> Path:
    """The files of the Space ``repo_id``, downloaded (or cached) here: a folder with
    its ``openenv.yaml``. Raises :class:`~openenv.ConnectError` (no download) or
    :class:`~openenv.errors.EnvironmentNotFound` (no ``openenv.yaml``), in one line."""
    from huggingface_hub import constants, snapshot_download

    try:
        folder = Path(snapshot_download(repo_id, repo_type="space"))
    except Exception as exc:
        text = str(exc).strip().splitlines()
        why = text[0] if text else type(exc).__name__
        raise ConnectError(
            f"cannot download the Space {repo_id} from {constants.ENDPOINT}: {why}"
        ) from None
    if not (folder / "openenv.yaml").is_file():
        raise EnvironmentNotFound(f"the Space {repo_id} has no openenv.yaml: not an environment")
    return folder


__all__ = ["is_hub_id", "space_package"]
