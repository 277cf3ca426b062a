"""Environment failures in the logs, and the shared resources a server releases at shutdown."""

from __future__ import annotations

import logging

import pytest

from openenv import GenericEnvClient
from openenv.client.core import EnvServerError
from tests.envs_for_tests import ToyEnv


def test_a_refused_action_is_one_info_line_and_a_bug_keeps_its_traceback(serve, caplog):
    served = serve(ToyEnv)
    caplog.set_level(logging.INFO, logger="openenv")
    with GenericEnvClient(base_url=served.base_url) as client:
        client.reset()
        with pytest.raises(EnvServerError, match="broke"):
            client.step({"fail": True})  # ToyEnv raises ValueError: a refusal
        with pytest.raises(EnvServerError, match="reset failed"):
            client.reset(fail=True)  # RuntimeError: a bug
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    failed = [r for r in caplog.records if "environment failed" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.INFO and refused[0].exc_info is None
    assert len(failed) == 1 and failed[0].levelno == logging.ERROR and failed[0].exc_info


def test_the_server_releases_shared_resources_at_shutdown(serve):
    from tests.envs_for_tests import ToyEnv as Base

    closed: list[str] = []

    class SharingEnv(Base):
        @classmethod
        async def close_shared(cls) -> None:
            closed.append(cls.__name__)

    served = serve(SharingEnv)
    with GenericEnvClient(base_url=served.base_url) as client:
        client.reset()
    assert closed == []
    served.stop()
    assert closed == ["SharingEnv"]


def test_the_server_prepares_shared_data_once_before_the_first_session(serve):
    from tests.envs_for_tests import ToyEnv as Base

    prepared: list[int] = []
    made: list[int] = []

    class PreparingEnv(Base):
        @classmethod
        def prepare_shared(cls) -> None:
            prepared.append(len(made))  # how many instances existed then

        def __init__(self) -> None:
            super().__init__()
            made.append(1)

    served = serve(PreparingEnv)
    assert prepared == [0]  # at start-up, before any session
    for _ in range(2):
        with GenericEnvClient(base_url=served.base_url) as client:
            client.reset()
    assert prepared == [0] and len(made) == 2
