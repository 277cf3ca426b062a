"""``openenv build``: images that serve, layered for fast rebuilds, buildable by plain podman."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from openenv.deploy.base import LOCAL_BASE
from openenv.deploy.images import build_image, stage
from openenv.runtime.engine import engine
from tests.conftest import wait_until
from tests.deploy.conftest import OPENENV, free_port


def _layers(image: str) -> list[str]:
    return list(engine().images.get(image).attrs["RootFS"]["Layers"])


def test_the_image_runs_unprivileged_and_serves_the_environment(echo_image: str) -> None:
    attrs = engine().images.get(echo_image).attrs
    config = attrs["Config"]
    assert config["User"] == "10001:10001"
    assert config["Labels"]["openenv.env"] == "echo_env"
    assert config["Cmd"][:3] == ["openenv", "serve", "/opt/openenv/env"]
    assert "8000/tcp" in config["ExposedPorts"]


def test_a_source_edit_rebuilds_only_the_last_layers(engine_url: str, tiny_env: Path) -> None:
    tag = "openenv-test-tiny:latest"
    build_image(tiny_env, tag=tag)
    before = _layers(tag)
    source = tiny_env / "tiny_env" / "server" / "environment.py"
    source.write_text(source.read_text() + "\n# an edit\n")
    build_image(tiny_env, tag=tag)
    after = _layers(tag)
    assert after != before, "the edit did not reach the image"
    # Everything up to the environment's own layer is reused: base, user, dependencies, openenv.
    same = sum(1 for a, b in zip(before, after, strict=True) if a == b)
    assert len(after) == len(before)
    assert same >= len(before) - 2, (same, len(before))

    unchanged = build_image(tiny_env, tag=tag)  # nothing changed: the very same image
    assert _layers(tag) == after
    assert unchanged.tag == tag


def test_a_staged_context_builds_with_plain_podman_build(
    engine_url: str, tiny_env: Path, tmp_path: Path
) -> None:
    build_image(tiny_env, tag="openenv-test-tiny:latest")  # makes sure the base is here
    context = tmp_path / "context"
    done = subprocess.run(
        [OPENENV, "build", str(tiny_env), "--stage-only", "-o", str(context)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "docker build" in done.stdout
    assert (context / "Dockerfile").is_file() and (context / "openenv.yaml").is_file()
    assert list((context / "wheels" / "env").glob("*.whl"))
    build_and_serve_with_podman(context, "openenv-test-plain:latest")


def test_a_staged_space_builds_and_serves(engine_url: str, tiny_env: Path, tmp_path: Path) -> None:
    """What openenv push uploads to a Space is a context the Space's builder can build."""
    from openenv.deploy.push import stage_space

    build_image(tiny_env, tag="openenv-test-tiny:latest")  # makes sure the base is here
    folder = stage_space(tiny_env, tmp_path / "space", repo_id="team/tiny")
    assert (folder / "README.md").read_text().startswith("---\n")
    build_and_serve_with_podman(folder, "openenv-test-space:latest")


def build_and_serve_with_podman(context: Path, tag: str) -> None:
    """``podman build`` (the CLI, not our code) on ``context``, then run it until healthy."""
    built = subprocess.run(
        ["podman", "build", "-q", "--build-arg", f"BASE={LOCAL_BASE}", "-t", tag, str(context)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    port = free_port()
    name = f"openenv-test-{port}"
    subprocess.run(
        ["podman", "run", "-d", "--rm", "--name", name, "-p", f"127.0.0.1:{port}:8000", tag],
        check=True,
        capture_output=True,
    )
    try:
        wait_until(lambda: _healthy(f"http://127.0.0.1:{port}"), timeout=60, interval=0.1)
    finally:
        subprocess.run(["podman", "rm", "-f", name], capture_output=True)


def test_the_package_dockerfile_is_the_one_build_uses(tiny_env: Path, tmp_path: Path) -> None:
    """openenv init writes the very recipe openenv build stages (one Dockerfile, not two)."""
    context = stage(tiny_env, tmp_path / "context")
    staged = (context.path / "Dockerfile").read_text()
    assert staged == (tiny_env / "Dockerfile").read_text()


def test_a_build_failure_is_one_clear_error(engine_url: str, tiny_env: Path) -> None:
    (tiny_env / "pyproject.toml").write_text(
        "[project]\nname = 'tiny'\nversion = 'not a version'\n"
    )
    done = subprocess.run(
        [OPENENV, "build", str(tiny_env), "-t", "openenv-test-broken:latest"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "wheel" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def test_every_shipped_env_has_the_dockerfile_openenv_build_stages() -> None:
    from openenv.cli.init import placeholders, render
    from openenv.deploy.images import DOCKERFILE

    envs = sorted(p.parent for p in (Path(__file__).parents[2] / "envs").glob("*/openenv.yaml"))
    assert len(envs) >= 10
    for folder in envs:
        expected = render(DOCKERFILE.read_text(), placeholders(folder.name))
        assert (folder / "Dockerfile").read_text() == expected, f"{folder.name}: regenerate it"
