"""Environments to Hugging Face Spaces: ``openenv push ENV``.

:func:`stage_space` writes what a Docker Space needs into a folder: the build context
of :func:`~openenv.deploy.images.stage` (Dockerfile, ``openenv.yaml``, the wheels of
the dependencies, of OpenEnv and of the environment: the Space's builder downloads
nothing but the base image ``python:3.11-slim``) and a ``README.md`` whose YAML front
matter makes it a Docker Space serving on port 8000. :func:`push_space` creates the
Space (``exist_ok``: pushing again updates it) and uploads that folder as one commit.

The token is the ``token`` argument, else ``$HF_TOKEN``, else the one ``hf auth login``
saved. ``$HF_ENDPOINT`` names another Hub (a local one in the tests). Every failure is
a :class:`~openenv.errors.PushError` with a one-line message.

Example::

    from openenv.deploy.push import push_space

    pushed = push_space("echo_env", repo_id="team/echo-env")
    pushed.url                # "https://huggingface.co/spaces/team/echo-env"
    pushed.commit             # the commit's oid
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import PushError
from .base import DEFAULT_BASE
from .images import PORT, cache_dir, package_folder, stage

DEFAULT_ENDPOINT = "https://huggingface.co"
"""The Hub, unless ``$HF_ENDPOINT`` names another."""
SHORT_DESCRIPTION_MAX = 60
"""The Hub refuses a Space's ``short_description`` longer than this."""
NO_USER = "<user>"
"""The owner a dry run shows when none was given (a dry run asks the Hub nothing)."""

Progress = Callable[[str], object]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


@dataclass(frozen=True)
class SpacePush:
    """What :func:`push_space` uploaded (or, for a dry run, would upload)."""

    repo_id: str
    url: str
    """The Space's page (``ENDPOINT/spaces/OWNER/NAME``)."""
    files: tuple[str, ...]
    """Every file of the commit, relative to :attr:`staged`, ``/``-separated, sorted."""
    commit: str | None
    """The commit's oid; ``None`` for a dry run."""
    staged: Path
    """The folder that was (or would be) uploaded."""


def endpoint() -> str:
    """``$HF_ENDPOINT``, else ``https://huggingface.co`` (read at each call)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def default_space_name(env: str) -> str:
    """The Space's name for an environment: its name with ``_`` as ``-``."""
    return env.replace("_", "-")


def stage_space(
    env: str | Path,
    dest: Path,
    *,
    repo_id: str,
    progress: Progress | None = None,
) -> Path:
    """Write the Space of ``env`` into ``dest`` (emptied first) and return ``dest``.

    The build context of :func:`~openenv.deploy.images.stage` on ``python:3.11-slim``,
    plus ``README.md``: YAML front matter (title, short description, ``sdk: docker``,
    ``app_port: 8000``, tags ``openenv`` and the environment's name), then the
    environment package's own README (its front matter, if any, dropped).
    """
    from ..discovery import find_environment

    context = stage(env, dest, base=DEFAULT_BASE, progress=progress)
    found = find_environment(env)
    description = _one_line(found.description)
    if len(description) > SHORT_DESCRIPTION_MAX:
        description = description[: SHORT_DESCRIPTION_MAX - 1].rstrip() + "…"
    front: dict[str, Any] = {
        "title": context.env,
        "short_description": description,
        "sdk": "docker",
        "app_port": PORT,
        "tags": ["openenv", context.env],
    }
    body = _package_readme(found) or f"# {context.env}\n\n{found.description}\n"
    text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n\n"
    text += body.rstrip() + "\n\n" + _usage(context.env, repo_id)
    (dest / "README.md").write_text(text, encoding="utf-8")
    return dest


def push_space(
    env: str | Path,
    *,
    repo_id: str | None = None,
    private: bool = False,
    token: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    dest: Path | None = None,
) -> SpacePush:
    """Stage ``env`` as a Docker Space and upload it to ``repo_id`` in one commit.

    ``repo_id`` is ``OWNER/NAME``, or ``NAME`` (owner: the token's user); by default
    ``USER/<env name with _ as ->``. ``private`` applies when the Space is created (an
    existing Space keeps its visibility). ``dry_run`` stages only: no token needed, no
    request sent. ``dest`` is where to stage (default ``~/.cache/openenv/space/NAME``).
    Raises :class:`~openenv.errors.PushError`.
    """
    from ..discovery import find_environment

    say = progress or (lambda _message: None)
    name = find_environment(env).name
    hub = endpoint()
    if repo_id is not None:
        repo_id = _checked_repo_id(repo_id.strip())
    owner, _, space = (repo_id or "").rpartition("/")
    space = space or default_space_name(name)

    api = None
    if not dry_run:
        api = _api(hub, _token(token))
        if not owner:
            say(f"asking {hub} whom the token belongs to")
            owner = str(_call(hub, "asking who the token belongs to", api.whoami)["name"])
    repo_id = f"{owner or NO_USER}/{space}"

    staged = dest or cache_dir() / "space" / name
    say(f"staging {name} as a Docker Space")
    stage_space(env, staged, repo_id=repo_id, progress=say)
    files = _files(staged)
    url = f"{hub}/spaces/{repo_id}"
    if api is None:
        return SpacePush(repo_id, url, files, None, staged)

    from huggingface_hub import CommitOperationAdd

    say(f"creating the Space {repo_id}")
    _call(
        hub,
        f"creating the Space {repo_id}",
        api.create_repo,
        repo_id,
        repo_type="space",
        space_sdk="docker",
        exist_ok=True,
        private=private,
    )
    size = sum((staged / file).stat().st_size for file in files)
    say(f"uploading {len(files)} files ({size / 1e6:.1f} MB) to {repo_id}")
    operations = [CommitOperationAdd(file, str(staged / file)) for file in files]
    commit = _call(
        hub,
        f"uploading to {repo_id}",
        api.create_commit,
        repo_id,
        operations,
        commit_message=f"openenv push {name}",
        repo_type="space",
    )
    return SpacePush(repo_id, url, files, str(commit.oid), staged)


# -- token, repository name, errors -------------------------------------------------------


def _token(token: str | None) -> str:
    """The argument, else ``$HF_TOKEN``, else the one ``hf auth login`` saved."""
    found = token or os.environ.get("HF_TOKEN")
    if not found:
        try:
            from huggingface_hub import get_token

            found = get_token()
        except Exception as exc:  # e.g. a failed OIDC exchange ($HF_OIDC_RESOURCE)
            raise PushError(f"no Hugging Face token: {_one_line(exc)}") from None
    if not found or not found.strip():
        raise PushError("no Hugging Face token: set HF_TOKEN or run `hf auth login`")
    return found.strip()


def _api(hub: str, token: str) -> Any:
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise PushError(
            "pushing to a Space needs huggingface_hub: pip install 'openenv-rl[containers]'"
        ) from None
    return HfApi(endpoint=hub, token=token)


def _checked_repo_id(repo_id: str) -> str:
    parts = repo_id.split("/")
    if len(parts) > 2 or not all(_NAME.match(part) for part in parts):
        raise PushError(
            f"--repo-id takes OWNER/NAME or NAME (letters, digits, '-', '_', '.'), not {repo_id!r}"
        )
    return repo_id


def _call(hub: str, what: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, its failures as one-line :class:`PushError`s."""
    from huggingface_hub.utils import HfHubHTTPError, OfflineModeIsEnabled

    try:
        return function(*args, **kwargs)
    except OfflineModeIsEnabled:
        raise PushError(f"cannot reach {hub}: offline mode is on (unset HF_HUB_OFFLINE)") from None
    except HfHubHTTPError as exc:
        raise PushError(_http_failure(hub, what, exc)) from None
    except PushError:
        raise
    except Exception as exc:
        if _is_connection_error(exc):
            raise PushError(f"cannot reach {hub}: {_one_line(exc) or type(exc).__name__}") from None
        if isinstance(exc, ValueError):  # e.g. the Hub refused the README's metadata
            raise PushError(f"{what} failed: {_one_line(exc)}") from None
        raise


def _http_failure(hub: str, what: str, exc: Any) -> str:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    said = _server_message(exc)
    if status == 401:
        return (
            f"{hub} refused the Hugging Face token (401 while {what}): check HF_TOKEN or "
            "run `hf auth login` again"
        )
    if status == 402:
        return (
            f"{what} failed (402 payment required): Docker Spaces need a PRO or Team "
            "subscription, or billing, on the owner's account" + said
        )
    if status == 403:
        return (
            f"{what} failed (403 forbidden): the name belongs to another user or "
            "organization, or the token cannot write there; pick another --repo-id or use a "
            "token with write access" + said
        )
    if status == 409:
        return (
            f"{what} failed (409 conflict): the name is taken or the Space is being changed; "
            "pick another --repo-id or try again" + said
        )
    if status == 404:
        return f"{what} failed (404 not found): no such owner or Space on {hub}" + said
    return f"{what} failed ({status or 'HTTP error'}): " + (
        said.removeprefix(": ") or _one_line(exc)
    )


def _server_message(exc: Any) -> str:
    text = _one_line(getattr(exc, "server_message", None) or "")
    return f": {text[:200]}" if text else ""


def _is_connection_error(exc: BaseException) -> bool:
    """A transport failure of any HTTP stack huggingface_hub uses (httpx, httpx2, requests)."""
    for cls in type(exc).__mro__:
        module = cls.__module__.split(".")[0]
        if module in ("httpx", "httpx2", "requests", "urllib3") and cls.__name__ in (
            "TransportError",
            "ConnectionError",
            "TimeoutException",
            "Timeout",
        ):
            return True
    return isinstance(exc, (ConnectionError, TimeoutError))


# -- what is staged ------------------------------------------------------------------------


def _files(folder: Path) -> tuple[str, ...]:
    return tuple(
        sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    )


def _package_readme(found: Any) -> str | None:
    """The environment package's README.md without its front matter, if it has one."""
    try:
        folder = package_folder(found)
    except Exception:
        folder = found.root
    for candidate in (folder, found.root):
        readme = candidate / "README.md" if candidate is not None else None
        if readme is not None and readme.is_file():
            text = readme.read_text(encoding="utf-8", errors="replace")
            if text.startswith("---\n"):
                end = text.find("\n---", 4)
                text = text[end + 4 :].lstrip("\n") if end != -1 else text
            return text if text.strip() else None
    return None


def _usage(env: str, repo_id: str) -> str:
    return (
        "## This Space\n\n"
        f"Serves `{env}` with OpenEnv (`openenv serve`, port {PORT}); pushed with "
        f'`openenv push {env}`. Connect to it (without `run="remote"`, `from_hub` pulls '
        "its image and runs it locally):\n\n"
        "```python\n"
        "from openenv import GenericEnvClient\n\n"
        f'with GenericEnvClient.from_hub("{repo_id}", run="remote") as env:\n'
        "    print(env.reset().observation)\n"
        "```\n"
    )


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:300]
