"""An environment whose observations are draws from NumPy's global generator."""

from __future__ import annotations

from typing import Any

import numpy

from tests.runtime.sandbox_envs import TrialAction, TrialEnv, TrialObservation

# A module that draws when imported (as many do: a table of random features, a seeded
# shuffle) leaves NumPy's global generator in a state every forked worker would share.
FEATURES = numpy.random.random(4)


class NumpyDrawEnv(TrialEnv):
    def _step(self, action: TrialAction, timeout_s: float | None = None) -> TrialObservation:
        return TrialObservation(echoed=repr(numpy.random.random()))

    def _reset(self, seed: int | None = None, episode_id: str | None = None, **options: Any):
        return TrialObservation()
