"""``from_env("owner/space")``: a Space's package downloaded from a (local) Hub and served here.

The Hub is :class:`tests.fake_hub.FakeHub`, a real HTTP server on 127.0.0.1 that
``$HF_ENDPOINT`` names; huggingface_hub's ``snapshot_download`` talks to it as to
huggingface.co. A Space holds an OpenEnv 0.10 package (``openenv.yaml`` with
``app: server.app:app``, ``server/app.py``, ``models.py``, ``client.py``), either
seeded as the reference's ``openenv push`` uploads it (the package's folder) or
published by our ``openenv push`` (the build context, with the package's wheel).
``EnvClient.from_env(..., use_docker=False)`` and ``AutoEnv.from_env`` download it,
serve it with ``openenv serve`` and step it; the docker path, with no container
tooling here, says what to install.
"""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import openenv.auto as auto
import openenv.core.hub as hub_module
from openenv.core import EnvClient, GenericEnvClient
from openenv.core.client_types import StepResult
from openenv.core.env_server.types import Action, Observation, State
from openenv.core.hub import hub_repo_id, is_hub_id
from openenv.errors import ConfigError, EngineUnavailable, EnvironmentNotFound
from tests.fake_hub import TOKEN, FakeHub, isolate_from_real_hub, serve

pytestmark = pytest.mark.timeout(300)

COUNTER = {
    "README.md": """
        ---
        title: counter
        sdk: docker
        app_port: 8000
        tags: [openenv]
        ---
        # counter
    """,
    "openenv.yaml": """
        spec_version: 1
        name: counter
        version: 0.1.0
        type: space
        runtime: fastapi
        app: server.app:app
        port: 8000
    """,
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=45", "wheel"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "openenv-counter"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = ["openenv>=0.2.2"]

        [tool.setuptools]
        packages = ["counter", "counter.server"]
        package-dir = { "counter" = ".", "counter.server" = "server" }
    """,
    "__init__.py": """
        from .client import CounterEnv
        from .models import CountAction, CountObservation
    """,
    "models.py": """
        from openenv.core.env_server.types import Action, Observation


        class CountAction(Action):
            by: int = 1


        class CountObservation(Observation):
            total: int = 0
            greeting: str = ""
    """,
    "client.py": """
        from openenv.core import EnvClient
        from openenv.core.client_types import StepResult
        from openenv.core.env_server.types import State

        from .models import CountAction, CountObservation


        class CounterEnv(EnvClient[CountAction, CountObservation, State]):
            def _step_payload(self, action):
                return {"by": action.by}

            def _parse_result(self, payload):
                observation = CountObservation(**payload.get("observation", {}))
                return StepResult(observation=observation, reward=payload.get("reward"),
                                  done=payload.get("done", False))

            def _parse_state(self, payload):
                return State(**payload)
    """,
    "server/__init__.py": "",
    "server/counter_environment.py": """
        import os
        from uuid import uuid4

        from openenv.core.env_server.interfaces import Environment
        from openenv.core.env_server.types import State

        try:
            from ..models import CountAction, CountObservation
        except ImportError:
            from models import CountAction, CountObservation


        class CounterEnvironment(Environment):
            def __init__(self):
                super().__init__()
                self._state = State(episode_id=str(uuid4()), step_count=0)
                self._total = 0

            def reset(self, seed=None, episode_id=None, **kwargs):
                self._state = State(episode_id=episode_id or str(uuid4()), step_count=0)
                self._total = 0
                greeting = os.environ.get("COUNTER_GREETING", "")
                return CountObservation(total=0, greeting=greeting)

            def step(self, action: CountAction, timeout_s=None, **kwargs):
                self._state.step_count += 1
                self._total += action.by
                return CountObservation(
                    total=self._total, reward=float(action.by), done=self._total >= 10
                )

            @property
            def state(self):
                return self._state
    """,
    "server/app.py": """
        from openenv.core.env_server.http_server import create_app

        try:
            from ..models import CountAction, CountObservation
            from .counter_environment import CounterEnvironment
        except ImportError:
            from models import CountAction, CountObservation
            from server.counter_environment import CounterEnvironment

        app = create_app(
            CounterEnvironment, CountAction, CountObservation, env_name="counter",
            max_concurrent_envs=2,
        )
    """,
}


def package(**renamed: str) -> dict[str, str]:
    """The counter package's files, with ``old=new`` words replaced in each."""
    files = {}
    for name, text in COUNTER.items():
        text = textwrap.dedent(text).lstrip()
        for old, new in renamed.items():
            text = text.replace(old, new)
        files[name] = text
    return files


class CountAction(Action):
    by: int = 1


class CountObservation(Observation):
    total: int = 0
    greeting: str = ""


class Counter(EnvClient[CountAction, CountObservation, State]):
    """A client written the reference's way, as its user would have it."""

    def _step_payload(self, action: CountAction) -> dict[str, Any]:
        return {"by": action.by}

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[CountObservation]:
        observation = CountObservation(**payload.get("observation", {}))
        return StepResult(
            observation=observation, reward=payload.get("reward"), done=payload["done"]
        )

    def _parse_state(self, payload: dict[str, Any]) -> State:
        return State(**payload)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No real Hub; downloaded Spaces in tmp_path; no trust given; and the modules of the
    Spaces imported here (their top-level ``server``, ``models``) forgotten afterwards."""
    isolate_from_real_hub(monkeypatch)
    monkeypatch.setattr(hub_module, "spaces_dir", lambda: tmp_path / "spaces")
    monkeypatch.delenv(auto.TRUST_REMOTE_CODE, raising=False)
    monkeypatch.setattr(auto, "_trusted", set())
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None)
        if where and Path(os.path.abspath(where)).is_relative_to(tmp_path):
            del sys.modules[name]


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    yield from serve(monkeypatch)


def served_folder(client: Any) -> Path:
    return Path(client.async_client.runtime.env)


def test_from_env_downloads_a_space_and_serves_it_here(hub: FakeHub, tmp_path: Path) -> None:
    commit = hub.seed("team/counter", package())
    client = Counter.from_env(
        "team/counter", use_docker=False, env_vars={"COUNTER_GREETING": "hello"}
    ).sync()
    runtime = client.async_client.runtime
    try:
        first = client.reset()
        assert first.observation == CountObservation(total=0, greeting="hello")  # env_vars
        result = client.step(CountAction(by=4))
        assert (result.observation.total, result.reward, result.done) == (4, 4.0, False)
        assert client.step(CountAction(by=6)).done is True
        assert client.state().step_count == 2
    finally:
        client.close()
    assert not runtime.running and not runtime.health()  # the local server is gone

    folder = served_folder(client)
    assert folder == tmp_path / "spaces" / "team--counter" / commit
    assert (folder / "server" / "app.py").read_text() == package()["server/app.py"]
    assert not any(path.is_symlink() for path in folder.rglob("*"))  # plain files
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.*")) == sorted(COUNTER)
    assert {"openenv.yaml", "server/app.py", "models.py"} <= set(hub.downloads("team/counter"))


def test_from_env_awaited_and_a_second_time_from_the_cache(hub: FakeHub) -> None:
    hub.seed("team/counter", package())

    async def play() -> tuple[Any, Any]:
        env = await GenericEnvClient.from_env("team/counter", use_docker=False)
        try:
            await env.reset()
            return (await env.step({"by": 3})).observation, env.runtime
        finally:
            await env.close()

    observation, runtime = asyncio.run(play())
    assert observation["total"] == 3 and not runtime.running
    downloads = len(hub.downloads("team/counter"))
    observation, _ = asyncio.run(play())
    assert observation["total"] == 3
    assert len(hub.downloads("team/counter")) == downloads  # nothing downloaded again


def test_auto_env_gives_a_client_typed_with_the_space_classes(hub: FakeHub) -> None:
    import openenv

    hub.seed("team/counter", package())
    with pytest.raises(ConfigError, match="trust_remote_code=True") as refused:
        openenv.AutoEnv.from_env("team/counter", use_docker=False)
    assert "team/counter" in str(refused.value)
    assert hub.calls == []  # nothing downloaded without consent

    env = openenv.AutoEnv.from_env("team/counter", use_docker=False, trust_remote_code=True)
    try:
        action = openenv.AutoAction.from_env("team/counter")  # trusted by now
        assert action.__name__ == "CountAction" and "by" in action.model_fields
        with env.sync() as client:
            assert client.reset().observation.total == 0
            observation = client.step(action(by=2)).observation
            assert type(observation).__name__ == "CountObservation" and observation.total == 2
    finally:
        env.close()
    assert not env.runtime.running


def test_two_spaces_with_the_same_layout_each_get_their_own_classes(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both import top-level ``server.app`` and ``models``: the second must not get the
    first one's modules from ``sys.modules``."""
    import openenv

    monkeypatch.setenv(auto.TRUST_REMOTE_CODE, "1")
    hub.seed("team/counter", package())
    hub.seed("team/stepper", package(by="amount", **{"name: counter": "name: stepper"}))
    counter = openenv.AutoAction.from_env("team/counter")
    stepper = openenv.AutoAction.from_env("https://huggingface.co/spaces/team/stepper")
    assert "by" in counter.model_fields and "amount" not in counter.model_fields
    assert "amount" in stepper.model_fields and "by" not in stepper.model_fields
    assert openenv.AutoAction.from_env("team/stepper") is stepper  # the same modules again
    assert "by" in openenv.AutoAction.from_env("team/counter").model_fields  # and back


def test_a_missing_space_is_one_line_naming_it(hub: FakeHub) -> None:
    with pytest.raises(EnvironmentNotFound) as missing:
        Counter.from_env("team/nothing", use_docker=False).sync()
    assert str(missing.value) == (
        f"no Space team/nothing on {hub.url} (if it is private, set HF_TOKEN)"
    )

    hub.seed("team/counter", package())
    with pytest.raises(EnvironmentNotFound, match=r"team/counter .* has no revision 'v9'"):
        Counter.from_env("team/counter", use_docker=False, revision="v9").sync()

    hub.seed("team/gradio-demo", {"README.md": "---\nsdk: gradio\n---\n", "app.py": ""})
    with pytest.raises(EnvironmentNotFound, match=r"team/gradio-demo has no openenv\.yaml"):
        Counter.from_env("team/gradio-demo", use_docker=False).sync()


def test_a_space_published_by_our_openenv_push_runs_here(hub: FakeHub, tmp_path: Path) -> None:
    """Our push uploads the image's build context: the package's wheel is unpacked here,
    and the dependencies' wheels are not downloaded."""
    from openenv.deploy.push import push_space

    source = tmp_path / "counter"
    for name, text in package().items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    push_space(source, repo_id="team/pushed", token=TOKEN, dest=tmp_path / "staged")
    assert any(p.startswith("wheels/deps/") for p in hub.spaces["team/pushed"].files)

    with Counter.from_env("team/pushed", use_docker=False).sync() as client:
        client.reset()
        assert client.step(CountAction(by=5)).observation.total == 5
        folder = served_folder(client)
    assert (folder / "counter" / "server" / "app.py").is_file()  # from wheels/env
    downloaded = hub.downloads("team/pushed")
    assert "openenv.yaml" in downloaded and any(p.startswith("wheels/env/") for p in downloaded)
    assert not [p for p in downloaded if p.startswith(("wheels/deps/", "wheels/openenv/"))]


# -- the docker path (the Space's image) ---------------------------------------------------------


def test_the_docker_path_without_a_container_engine_says_what_to_install(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from openenv.runtime import engine as engine_module

    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(engine_module, "_answers", lambda _socket: False)  # no Docker socket
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no podman to start
    hub.seed("team/counter", package())
    with pytest.raises(EngineUnavailable) as failed:
        Counter.from_env("team/counter").sync()  # use_docker=True, as in the reference
    message = str(failed.value)
    assert message.startswith("no container engine: set DOCKER_HOST, start Docker, or install")
    assert "podman" in message and "\n" not in message
    assert hub.calls == []  # the image is run: the package is not downloaded


def test_the_docker_path_without_the_docker_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/engine.sock")
    monkeypatch.setitem(sys.modules, "docker", None)  # as if not installed
    with pytest.raises(EngineUnavailable) as failed:
        asyncio.run(_awaited(Counter.from_env("team/counter")))
    assert str(failed.value) == (
        "containers need the docker package: pip install 'openenv-rl[containers]'"
    )


async def _awaited(bootstrap: Any) -> Any:
    return await bootstrap


def test_the_docker_path_runs_the_image_the_hub_names() -> None:
    runtime = Counter.from_env("Team/My_Env", tag="v2", memory_mb=256)._runtime()
    assert runtime.image == "registry.hf.space/team-my-env:v2"  # the Space's subdomain
    assert runtime.limits.memory_mb == 256
    with pytest.raises(ConfigError, match="isolation= is for a server run here"):
        Counter.from_env("team/env", isolation="sandbox")
    with pytest.raises(ConfigError, match="workers=4"):
        Counter.from_env("team/env", use_docker=False, workers=4)
    with pytest.raises(ConfigError, match="a git URL is not cloned here"):
        Counter.from_env("team/env", use_docker=False, project_path="git+https://x/y")


def test_project_path_serves_a_checkout_instead_of_downloading(
    hub: FakeHub, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout"
    for name, text in package().items():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text(text)
    with Counter.from_env("team/counter", use_docker=False, project_path=checkout).sync() as env:
        env.reset()
        assert env.step(CountAction(by=1)).observation.total == 1
        assert served_folder(env) == checkout
    assert hub.calls == []


def test_hub_ids_and_space_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert hub_repo_id("team/my-env") == "team/my-env"
    assert hub_repo_id("https://huggingface.co/spaces/team/my-env") == "team/my-env"
    assert hub_repo_id("https://huggingface.co/team/my-env/") == "team/my-env"
    assert hub_repo_id("echo_env") is None and hub_repo_id("a/b/c") is None
    monkeypatch.chdir(tmp_path)
    (tmp_path / "team" / "env").mkdir(parents=True)
    assert not is_hub_id("team/env")  # a folder here wins
