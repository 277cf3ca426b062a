"""An environment whose module imports on the host but fails inside a sandbox."""

from __future__ import annotations

from openenv.runtime.sandbox import inside_sandbox
from tests.runtime.sandbox_envs import TrialEnv

if inside_sandbox():
    raise ImportError("this module imports only on the host")


class ImportsOnlyOnHostEnv(TrialEnv):
    pass
