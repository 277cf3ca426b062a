"""``openenv push --registry``: push to a real OCI registry, then pull and run from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from openenv.deploy.images import build_image
from openenv.deploy.registry import push_image, space_image, space_url
from openenv.errors import PushError
from openenv.runtime.engine import engine, is_loopback_registry, split_reference
from tests.deploy.conftest import OPENENV, containers_of


def _remove_every_tag(image_id: str) -> None:
    client = engine()
    for tag in client.images.get(image_id).tags:
        client.images.remove(tag)


def test_push_then_from_docker_image_pulls_and_runs_it(
    engine_url: str, tiny_env: Path, registry: str
) -> None:
    from openenv import GenericEnvClient

    built = build_image(tiny_env, tag="openenv-test-pushed:latest")
    pushed = push_image(str(tiny_env), f"{registry}/team", image=built.tag, tag="v1")
    assert pushed.reference == f"{registry}/team/openenv-test-pushed:v1"
    assert pushed.digest and pushed.digest.startswith("sha256:")
    catalog = httpx.get(f"http://{registry}/v2/_catalog", trust_env=False).json()
    assert catalog["repositories"] == ["team/openenv-test-pushed"]

    _remove_every_tag(built.id)  # nothing of it is left here: the run below must pull
    with GenericEnvClient.from_docker_image(pushed.reference) as env:
        assert env.reset().observation is not None
    assert containers_of(pushed.reference) == []


def test_from_hub_runs_the_image_a_space_is_served_from(
    engine_url: str, tiny_env: Path, registry: str
) -> None:
    from openenv import GenericEnvClient

    built = build_image(tiny_env, tag="team-tiny:latest")  # the name a Space's image has
    push_image(str(tiny_env), registry, image=built.tag)
    _remove_every_tag(built.id)
    with GenericEnvClient.from_hub("team/tiny", registry=registry) as env:
        assert env.reset().observation is not None


def test_the_cli_pushes_and_says_where(engine_url: str, tiny_env: Path, registry: str) -> None:
    build_image(tiny_env, tag="openenv-tiny-env:latest")
    done = subprocess.run(
        [OPENENV, "push", str(tiny_env), "--registry", f"{registry}/cli"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert f"{registry}/cli/openenv-tiny-env:latest" in done.stdout


def test_a_registry_that_is_not_there_is_one_clear_error(engine_url: str, tiny_env: Path) -> None:
    build_image(tiny_env, tag="openenv-tiny-env:latest")
    with pytest.raises(PushError, match=r"pushing 127\.0\.0\.1:9/x/openenv-tiny-env:latest failed"):
        push_image(str(tiny_env), "127.0.0.1:9/x")


def test_names() -> None:
    # The Space's subdomain, as the Hub names its image (and as OpenEnv 0.10 does).
    assert space_image("Team/Echo_Env", "127.0.0.1:5000") == "127.0.0.1:5000/team-echo-env:latest"
    assert space_image("team/echo.env", "r.example", tag="v2") == "r.example/team-echo-env:v2"
    assert space_url("team/echo_env") == "https://team-echo-env.hf.space"
    assert split_reference("127.0.0.1:5000/ns/a:v1") == ("127.0.0.1:5000/ns/a", "v1")
    assert split_reference("127.0.0.1:5000/ns/a") == ("127.0.0.1:5000/ns/a", "latest")
    assert is_loopback_registry("127.0.0.1:5000/ns/a:v1")
    assert is_loopback_registry("localhost:5000/a")
    assert not is_loopback_registry("registry.hf.space/a-b:latest")
    assert not is_loopback_registry("python:3.11-slim")
    with pytest.raises(ValueError, match="OWNER/NAME"):
        space_image("no-owner")
