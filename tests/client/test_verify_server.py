"""A typed client checks, once per server, that the server serves its environment."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from echo_env import AsyncEchoEnv, EchoAction, EchoEnv
from echo_env.server import EchoEnvironment

from openenv import AsyncGenericEnvClient, EnvClient, GenericEnvClient, State
from openenv.client import EnvServerError, WrongEnvironmentError
from openenv.client import core as client_core
from tests.conftest import Served
from tests.envs_for_tests import ToyAction, ToyEnv, ToyObservation
from tests.server.test_config_strict import GuessEnv


class ToyClient(EnvClient[ToyAction, ToyObservation, State]):
    pass


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_core, "_verified", set())


def test_typed_client_against_another_environment_raises(serve: Callable[..., Served]) -> None:
    guess = serve(GuessEnv)
    client = EchoEnv(base_url=guess.base_url)
    with pytest.raises(WrongEnvironmentError) as caught:
        client.reset()
    message = str(caught.value)
    assert "EchoEnv is for EchoAction actions" in message
    assert f"the server at {guess.base_url} serves 'GuessEnv'" in message
    assert "take fields guess, metadata" in message and "verify_server=False" in message
    assert isinstance(caught.value, EnvServerError) and caught.value.code == "WRONG_ENVIRONMENT"
    assert guess.sessions == {}  # refused before a session was opened
    # A client whose action has fields the server's action refuses is refused too.
    echo = serve(EchoEnvironment)
    with pytest.raises(WrongEnvironmentError, match="ToyClient is for ToyAction"):
        ToyClient(base_url=echo.base_url).connect()


async def test_async_typed_client_against_another_environment_raises(
    serve: Callable[..., Served],
) -> None:
    guess = serve(GuessEnv)
    with pytest.raises(WrongEnvironmentError, match="AsyncEchoEnv is for EchoAction"):
        await AsyncEchoEnv(base_url=guess.base_url).connect()


def test_opt_out_connects_anyway(serve: Callable[..., Served]) -> None:
    guess = serve(GuessEnv)
    with EchoEnv(base_url=guess.base_url, verify_server=False) as client:
        assert client.reset().observation is not None
        with pytest.raises(EnvServerError, match=r"action\.guess: Field required"):
            client.step(EchoAction(message="hi"))


def test_right_environment_passes_and_is_checked_once(serve: Callable[..., Served]) -> None:
    echo = serve(EchoEnvironment)
    requests: list[str] = []
    echo.app.middleware_stack = None  # rebuilt with the counter below on the next request

    @echo.app.middleware("http")
    async def count(request, call_next):  # type: ignore[no-untyped-def]
        requests.append(request.url.path)
        return await call_next(request)

    for _ in range(3):
        with EchoEnv(base_url=echo.base_url) as client:
            client.reset()
            assert client.step(EchoAction(message="hi")).observation.echoed_message == "hi"
    assert requests.count("/schema") == 1  # cached per server and action type


def test_toy_server_takes_a_client_whose_fields_fit(serve: Callable[..., Served]) -> None:
    toy = serve(ToyEnv)  # ToyAction takes message (and more, all optional): EchoAction fits
    with EchoEnv(base_url=toy.base_url) as client:
        assert client.reset() is not None


async def test_generic_clients_never_verify(serve: Callable[..., Served]) -> None:
    guess = serve(GuessEnv)
    with GenericEnvClient(base_url=guess.base_url) as client:
        client.reset()
        assert client.step({"guess": "a"}).observation["hint"] == "a"
    async with AsyncGenericEnvClient(base_url=guess.base_url) as aclient:
        await aclient.reset()
    assert client_core._verified == set()
