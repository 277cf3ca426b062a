"""The base image an environment image starts from, made here when none can be pulled.

``openenv build`` starts from ``python:3.11-slim`` (:data:`DEFAULT_BASE`), what a
user with a registry at hand expects. Where that image is neither present nor
pullable (no registry reachable), :func:`ensure_base` makes a local base instead,
once: Debian bookworm's minimal variant with ``python3`` (3.11, the ABI of the wheels
``openenv build`` installs), ``bubblewrap`` and ``libseccomp2`` (so that sandboxed
sessions can work inside a container), made with ``debootstrap`` from the host's
Debian mirror, trimmed of package lists, caches, docs and man pages, and imported
as :data:`LOCAL_BASE`. Later builds find it in the engine's image store.

Example::

    from openenv.deploy.base import ensure_base
    from openenv.runtime.engine import engine

    image, note = ensure_base(engine(), None, progress=print)
    # ("python:3.11-slim", None), or ("localhost/openenv-base:bookworm", "python:3.11-slim
    # cannot be pulled (...): using a local Debian base")
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ImageBuildError

DEFAULT_BASE = "python:3.11-slim"
LOCAL_BASE = "localhost/openenv-base:bookworm"
SUITE = "bookworm"
PACKAGES = ("python3", "bubblewrap", "libseccomp2", "ca-certificates")
TRIM = (
    "var/lib/apt/lists",
    "var/cache/apt",
    "var/cache/debconf/templates.dat-old",
    "var/log",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/lintian",
    "usr/share/locale",
)
"""Paths emptied from the base: nothing in the image runs apt, reads docs or logs."""

Progress = Callable[[str], object]


def ensure_base(
    client: Any, base: str | None, *, progress: Progress | None = None
) -> tuple[str, str | None]:
    """The image to build from, and a note for the user when it is not what was asked.

    ``base=None`` means :data:`DEFAULT_BASE`, falling back to :data:`LOCAL_BASE` (made
    if missing). An explicit ``base`` must be present or pullable; else
    :class:`~openenv.errors.ImageBuildError` says so.
    """
    say = progress or (lambda _message: None)
    wanted = base or DEFAULT_BASE
    problem = _have_or_pull(client, wanted, say)
    if problem is None:
        return wanted, None
    if base is not None and base != LOCAL_BASE:
        raise ImageBuildError(f"base image {base} is not here and cannot be pulled: {problem}")
    if not _present(client, LOCAL_BASE):
        make_local_base(client, progress=say)
    if base == LOCAL_BASE:
        return LOCAL_BASE, None
    return (
        LOCAL_BASE,
        f"{wanted} cannot be pulled ({problem}): using a local Debian base, {LOCAL_BASE}",
    )


def make_local_base(client: Any, *, progress: Progress | None = None, tag: str = LOCAL_BASE) -> str:
    """Make :data:`LOCAL_BASE` with debootstrap and import it; return its image id.

    Needs root (debootstrap and its chroot do) and the ``debootstrap`` package.
    Takes about 35 s to a few minutes, depending on the mirror and the machine.
    """
    say = progress or (lambda _message: None)
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise ImageBuildError(
            "no base image can be pulled and debootstrap is missing to make one: "
            "apt-get install debootstrap, or pass --base with an image this engine has"
        )
    if os.geteuid() != 0:
        raise ImageBuildError(
            "no base image can be pulled, and making one with debootstrap needs root: "
            "run openenv build once as root, or pass --base with an image this engine has"
        )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="openenv-base-") as work:
        root = Path(work) / "root"
        command = [
            debootstrap,
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(root),
            debian_mirror(),
        ]
        say(f"making a local base image: debootstrap {SUITE} ({', '.join(PACKAGES)})")
        _run_debootstrap(command, say)
        say("trimming and importing the base image")
        for relative in TRIM:
            target = root / relative
            if target.is_dir():
                for child in target.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
        archive = Path(work) / "root.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(root, arcname=".")
        shutil.rmtree(root)
        repository, _, version = tag.rpartition(":")
        reply = client.api.import_image_from_file(
            str(archive),
            repository=repository,
            tag=version,
            changes=[
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                'CMD ["python3"]',
            ],
        )
    # Podman's import ignores the tag it is given: tag the image by the id it reports.
    ids = re.findall(r"(?:sha256:)?([0-9a-f]{64})", str(reply))
    image = client.images.get(ids[-1] if ids else f"{repository}:latest")
    image.tag(repository, version)
    if version != "latest":
        with contextlib.suppress(Exception):
            client.images.remove(f"{repository}:latest")
    size_mb = image.attrs.get("Size", 0) / 1e6
    say(f"made {tag} in {time.monotonic() - started:.0f} s ({size_mb:.0f} MB)")
    return str(image.id)


def debian_mirror() -> str:
    """The host's Debian mirror (its apt sources), else ``deb.debian.org``."""
    candidates = [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]
    for source in candidates:
        try:
            text = source.read_text()
        except OSError:
            continue
        match = re.search(r"(?m)^URIs:\s*(\S+/debian)\s*$", text) or re.search(
            r"(?m)^deb\s+(?:\[[^\]]*\]\s+)?(\S+/debian)\s+", text
        )
        if match:
            return match.group(1)
    return "http://deb.debian.org/debian"


def _run_debootstrap(command: list[str], say: Progress) -> None:
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    )
    assert process.stdout is not None
    tail: list[str] = []
    for line in process.stdout:
        line = line.strip()
        if not line:
            continue
        tail = [*tail[-19:], line]
        if line.startswith("I: "):
            say(f"debootstrap: {line[3:]}")
    if process.wait() != 0:
        raise ImageBuildError(
            f"debootstrap failed (exit {process.returncode}): " + " | ".join(tail[-5:])
        )


def _present(client: Any, image: str) -> bool:
    import docker.errors

    try:
        client.images.get(image)
        return True
    except docker.errors.ImageNotFound:
        return False


def _have_or_pull(client: Any, image: str, say: Progress) -> str | None:
    """``None`` when ``image`` is here or was pulled, else why it cannot be had."""
    if _present(client, image):
        return None
    say(f"pulling {image}")
    try:
        client.images.pull(image)
    except Exception as exc:
        why = getattr(exc, "explanation", None) or str(exc) or type(exc).__name__
        return " ".join(str(why).split())[:200]
    return None
