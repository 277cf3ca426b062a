"""Hugging Face Hub ids where OpenEnv 0.10 takes them (``from_env("owner/space")``).

A target is a Hub id when it is ``owner/name`` (or a Space's URL,
``https://huggingface.co/spaces/owner/name``) and no such folder exists here; an
installed environment name or a folder always wins.

:func:`space_package` downloads a Space's files with ``huggingface_hub``
(``$HF_ENDPOINT``, read at each call, and ``$HF_TOKEN`` apply; the files are cached
in its cache) and copies them, at that commit, into a folder of plain files,
``~/.cache/openenv/spaces/OWNER--NAME/COMMIT/`` (``$XDG_CACHE_HOME``), which
``openenv serve`` serves (a sandbox can bind it: no links out of it). Two kinds of
Space hold an environment:

* the package's own folder (``openenv.yaml``, ``server/app.py``, ...), as OpenEnv
  0.10's ``openenv push`` uploads it;
* the build context our ``openenv push`` uploads (``openenv.yaml``, ``Dockerfile``,
  ``wheels/``): the environment's wheel (``wheels/env/*.whl``) is unpacked into the
  folder, and the other wheels are not downloaded.

The package's Python dependencies are not installed for it (code from the Hub is not
run through pip behind the user's back: install them first).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import ConnectError, EnvironmentNotFound

_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_SPACE_URL = re.compile(
    r"^https?://(?:www\.)?huggingface\.co/(?:spaces/)?([^/?#]+/[^/?#]+?)/?(?:[?#].*)?$"
)
NOT_DOWNLOADED = ["wheels/deps/*", "wheels/openenv/*"]
"""What our ``openenv push`` stages for the image's builder only: the dependencies'
wheels and OpenEnv's own; serving the package here needs neither."""


def hub_repo_id(target: str | Path) -> str | None:
    """The Space id (``owner/name``) ``target`` names, or ``None`` when it names none:
    not of that form, or a folder of that name exists here."""
    text = str(target)
    match = _SPACE_URL.match(text)
    if match:
        text = match.group(1)
    parts = text.split("/")
    if len(parts) != 2 or not all(_PART.fullmatch(part) for part in parts):
        return None
    if Path(text).exists():
        return None
    return text


def is_hub_id(target: str | Path) -> bool:
    """``owner/name`` (or a Space's URL) that names no folder here."""
    return hub_repo_id(target) is not None


def hub_endpoint() -> str:
    """``$HF_ENDPOINT`` as it is now, else huggingface_hub's endpoint (huggingface.co)."""
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def spaces_dir() -> Path:
    """Where downloaded Spaces are kept as plain folders: ``~/.cache/openenv/spaces``."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "openenv" / "spaces"


def space_package(repo_id: str, *, revision: str | None = None) -> Path:
    """The files of the Space ``repo_id`` (at ``revision``, default its main branch),
    downloaded (or cached) here: a folder with its ``openenv.yaml``, ready for
    ``openenv serve``. Raises, in one line, :class:`~openenv.errors.EnvironmentNotFound`
    (no such Space or revision, or no ``openenv.yaml`` in it) or
    :class:`~openenv.ConnectError` (the Hub cannot be reached)."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.utils import RepositoryNotFoundError, RevisionNotFoundError
    except ImportError:
        raise ImportError(
            f"downloading the Space {repo_id} needs huggingface_hub: "
            "pip install 'openenv-rl[containers]'"
        ) from None

    endpoint = hub_endpoint()
    try:
        snapshot = Path(
            snapshot_download(
                repo_id,
                repo_type="space",
                revision=revision,
                endpoint=endpoint,
                ignore_patterns=NOT_DOWNLOADED,
            )
        )
    except RevisionNotFoundError:
        raise EnvironmentNotFound(
            f"the Space {repo_id} on {endpoint} has no revision {revision!r}"
        ) from None
    except RepositoryNotFoundError:
        raise EnvironmentNotFound(
            f"no Space {repo_id} on {endpoint} (if it is private, set HF_TOKEN)"
        ) from None
    except Exception as exc:
        text = str(exc).strip().splitlines()
        why = text[0] if text else type(exc).__name__
        raise ConnectError(f"cannot download the Space {repo_id} from {endpoint}: {why}") from None
    if not (snapshot / "openenv.yaml").is_file():
        raise EnvironmentNotFound(f"the Space {repo_id} has no openenv.yaml: not an environment")
    owner, name = repo_id.split("/")
    return _plain_copy(snapshot, spaces_dir() / f"{owner}--{name}" / snapshot.name)


def _plain_copy(snapshot: Path, dest: Path) -> Path:
    """``snapshot`` (huggingface_hub's links into its blob store) as plain files in
    ``dest``, with the environment's wheel unpacked; made once per commit (the folder
    appears whole, or not at all)."""
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        shutil.copytree(snapshot, partial, symlinks=False, ignore=shutil.ignore_patterns(".cache"))
        wheels = sorted((partial / "wheels" / "env").glob("*.whl"))
        if len(wheels) == 1:
            _unpack(wheels[0], partial)
        try:
            partial.rename(dest)
        except OSError:  # another process made it first
            if not dest.is_dir():
                raise
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(partial)
    return dest


def _unpack(wheel: Path, folder: Path) -> None:
    """The modules of ``wheel`` (not its ``.dist-info``/``.data``) into ``folder``,
    beside ``openenv.yaml``; a file already there is kept."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            path = PurePosixPath(member.filename)
            top = path.parts[0] if path.parts else ""
            if member.is_dir() or top.endswith((".dist-info", ".data")):
                continue
            if path.is_absolute() or ".." in path.parts:
                raise EnvironmentNotFound(f"{wheel.name} holds a path outside it: {path}")
            target = folder.joinpath(*path.parts)
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))


__all__ = ["hub_endpoint", "hub_repo_id", "is_hub_id", "space_package", "spaces_dir"]
