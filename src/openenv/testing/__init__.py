"""Tools to check an environment against the contract, for env authors and CI.

* :func:`check_env` / :func:`run_checks` — Gymnasium-style contract checks of an
  environment class in-process, a server at a URL, or an environment served by name
  (see :mod:`openenv.testing.checks` for the list);
* a pytest plugin (:mod:`openenv.testing.plugin`, loaded automatically once
  ``openenv`` is installed) with the ``openenv_serve`` fixture: a real server per
  environment for the tests of a session.

Example::

    from openenv.testing import check_env

    def test_my_env_keeps_the_contract():
        check_env(MyEnvironment)                 # raises EnvCheckFailed, with a table
"""

from ..errors import EnvCheckFailed
from .checks import CHECK_NAMES, CheckReport, CheckResult, check_env, run_checks

__all__ = [
    "CHECK_NAMES",
    "CheckReport",
    "CheckResult",
    "EnvCheckFailed",
    "check_env",
    "run_checks",
]
