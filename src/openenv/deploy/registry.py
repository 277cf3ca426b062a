"""Images to and from OCI registries: ``openenv push ENV --registry HOST:PORT/NS``.

:func:`push_image` tags an environment's image (built first if it is not here) as
``HOST:PORT/NS/openenv-NAME:TAG`` and pushes it through the engine.
:func:`space_image` names the image a Hugging Face Space is served from, which
``EnvClient.from_hub`` runs. A registry on loopback is spoken to over plain HTTP, as
Docker does by default; any other must speak TLS (or be listed as insecure in the
engine's own configuration).

Example::

    from openenv.deploy.registry import push_image

    pushed = push_image("echo_env", "127.0.0.1:5000/team")
    pushed.reference          # "127.0.0.1:5000/team/openenv-echo-env:latest"
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import PushError
from ..runtime.engine import engine, is_loopback_registry, split_reference

SPACE_REGISTRY = "registry.hf.space"
"""Where Hugging Face serves each Docker Space's image (``$OPENENV_SPACE_REGISTRY`` overrides)."""

Progress = Callable[[str], object]


@dataclass(frozen=True)
class PushedImage:
    """What :func:`push_image` pushed."""

    reference: str
    digest: str | None


def push_image(
    env: str,
    registry: str,
    *,
    tag: str | None = None,
    image: str | None = None,
    progress: Progress | None = None,
) -> PushedImage:
    """Push the image of ``env`` to ``registry`` (``HOST[:PORT][/NAMESPACE]``).

    ``image`` is the local image to push (default ``openenv-NAME:latest``, built if
    missing); ``tag`` the tag in the registry (default: the local one).
    """
    import docker.errors

    from ..deploy.images import build_image, default_tag
    from ..discovery import find_environment

    say = progress or (lambda _message: None)
    registry = registry.strip().rstrip("/")
    if not registry or registry.startswith(("http://", "https://")):
        raise PushError(f"--registry takes HOST[:PORT][/NAMESPACE], not {registry!r}")
    name = find_environment(env).name
    local = image or default_tag(name)
    client = engine()
    try:
        found = client.images.get(local)
    except docker.errors.ImageNotFound:
        if image is not None:
            raise PushError(f"no image {image} here: build it with openenv build") from None
        say(f"{local} is not built yet: building it")
        build_image(env, tag=local, progress=say)
        found = client.images.get(local)
    repository, local_tag = split_reference(local)
    target = f"{registry}/{repository.rsplit('/', 1)[-1]}"
    version = tag or local_tag
    found.tag(target, version)
    reference = f"{target}:{version}"
    say(f"pushing {reference}")
    params: dict[str, Any] = {"tag": version}
    if is_loopback_registry(reference):
        params["tlsVerify"] = "false"
    api = client.api
    headers = {"X-Registry-Auth": base64.urlsafe_b64encode(json.dumps({}).encode()).decode()}
    digest = None
    try:
        response = api._post(
            api._url("/images/{0}/push", target), params=params, headers=headers, stream=True
        )
        api._raise_for_status(response)
        for chunk in api._stream_helper(response, decode=True):
            if chunk.get("error"):
                raise PushError(f"pushing {reference} failed: {_one_line(chunk['error'])}")
            status = str(chunk.get("status", ""))
            if "digest: " in status:
                digest = status.split("digest: ", 1)[1].split()[0]
    except docker.errors.APIError as exc:
        raise PushError(
            f"pushing {reference} failed: {_one_line(exc.explanation or exc)}"
        ) from None
    return PushedImage(reference, digest)


def space_image(repo_id: str, registry: str | None = None, tag: str | None = None) -> str:
    """The image a Docker Space is served from: ``registry.hf.space/OWNER-NAME:latest``.

    The name is the Space's subdomain (:func:`space_slug`), as the Hub names it;
    ``tag`` defaults to ``latest``."""
    host = registry or os.environ.get("OPENENV_SPACE_REGISTRY") or SPACE_REGISTRY
    return f"{host.rstrip('/')}/{space_slug(repo_id)}:{tag or 'latest'}"


def space_url(repo_id: str) -> str:
    """The URL a running Space answers on: ``https://OWNER-NAME.hf.space``."""
    return f"https://{space_slug(repo_id)}.hf.space"


def space_slug(repo_id: str) -> str:
    """A Space's subdomain (and image name): ``owner/name`` lowercased, every character
    other than ``a-z0-9`` as ``-`` (``Team/Echo_Env`` -> ``team-echo-env``)."""
    owner, _, name = repo_id.partition("/")
    if not owner or not name or "/" in name:
        raise ValueError(f"a Space is named OWNER/NAME, not {repo_id!r}")
    return re.sub(r"[^a-z0-9]", "-", repo_id.lower())


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:300]
