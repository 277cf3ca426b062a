"""Many OpenEnv sessions as one Gymnasium vector env: :func:`to_gymnasium_vector`.

Each sub-environment is an :class:`~.env.OpenEnvGymnasiumEnv` with its own
session; the vector env calls them all at once from a thread pool (the sockets
wait in parallel) and batches what they return as ``SyncVectorEnv`` does.

Example::

    envs = to_gymnasium_vector(lambda: GymEnv(base_url=url), 8, env_id="CartPole-v1")
    obs, infos = envs.reset(seed=0)        # sessions seeded 0, 1, ..., 7
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from copy import deepcopy
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array, iterate

from .env import OpenEnvGymnasiumEnv, to_gymnasium


def _autoreset_mode(mode: str | AutoresetMode) -> AutoresetMode:
    """``AutoresetMode.SAME_STEP``, ``"SameStep"`` or ``"same_step"``."""
    if isinstance(mode, AutoresetMode):
        return mode
    for member in AutoresetMode:
        if mode in (member.value, member.name, member.name.lower()):
            return member
    names = ", ".join(m.name.lower() for m in AutoresetMode)
    raise ValueError(f"unknown autoreset_mode {mode!r}; expected one of {names}")


class OpenEnvVectorEnv(VectorEnv[Any, Any, Any]):
    """Many OpenEnv sessions as one Gymnasium vector env; made by :func:`to_gymnasium_vector`.

    Every ``reset``/``step`` calls all sessions at once (a thread per session), so a
    step costs about one round trip, not ``n``. Autoreset follows
    ``gymnasium.vector.SyncVectorEnv`` (``next_step`` by default, ``same_step``,
    ``disabled`` with ``reset(options={"reset_mask": mask})``).
    """

    def __init__(
        self,
        envs: Sequence[OpenEnvGymnasiumEnv],
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        copy: bool = True,
    ) -> None:
        if not envs:
            raise ValueError("a vector env needs at least one session")
        self.envs = list(envs)
        self.num_envs = len(self.envs)
        self.copy = copy
        self.autoreset_mode = _autoreset_mode(autoreset_mode)
        first = self.envs[0]
        for env in self.envs[1:]:
            if env.observation_space != first.observation_space:
                raise ValueError("the sessions' observation spaces differ; use one env_id")
            if env.action_space != first.action_space:
                raise ValueError("the sessions' action spaces differ; use one env_id")
        self.metadata = {**first.metadata, "autoreset_mode": self.autoreset_mode}
        self.render_mode = first.render_mode
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._pool = ThreadPoolExecutor(self.num_envs, thread_name_prefix="openenv-vector")
        self._env_obs: list[Any] = [None] * self.num_envs
        self._observations = create_empty_array(
            self.single_observation_space, n=self.num_envs, fn=np.zeros
        )
        self._rewards = np.zeros((self.num_envs,), dtype=np.float64)
        self._terminations = np.zeros((self.num_envs,), dtype=np.bool_)
        self._truncations = np.zeros((self.num_envs,), dtype=np.bool_)
        self._autoreset_envs = np.zeros((self.num_envs,), dtype=np.bool_)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset every session (or those in ``options["reset_mask"]``); seeds as SyncVectorEnv."""
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"{len(seeds)} seeds for {self.num_envs} sessions")
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if mask is None:
            mask = np.ones((self.num_envs,), dtype=np.bool_)
        elif not (isinstance(mask, np.ndarray) and mask.shape == (self.num_envs,)):
            raise ValueError(
                f"options['reset_mask'] must be a bool array of shape ({self.num_envs},)"
            )
        chosen = [i for i in range(self.num_envs) if mask[i]]
        results = list(
            self._pool.map(
                lambda i: self.envs[i].reset(seed=seeds[i], options=options or None), chosen
            )
        )
        infos: dict[str, Any] = {}
        for i, (obs, info) in zip(chosen, results, strict=True):
            self._env_obs[i] = obs
            self._terminations[i] = self._truncations[i] = self._autoreset_envs[i] = False
            infos = self._add_info(infos, info, i)
        self._observations = concatenate(
            self.single_observation_space, self._env_obs, self._observations
        )
        return (deepcopy(self._observations) if self.copy else self._observations), infos

    def _one_step(self, i: int, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any], Any]:
        env = self.envs[i]
        if self.autoreset_mode == AutoresetMode.NEXT_STEP and self._autoreset_envs[i]:
            obs, info = env.reset()
            return obs, 0.0, False, False, info, None
        if self.autoreset_mode == AutoresetMode.DISABLED and self._autoreset_envs[i]:
            raise RuntimeError(f"session {i} is done: reset it (autoreset_mode='disabled')")
        obs, reward, terminated, truncated, info = env.step(action)
        final = None
        if self.autoreset_mode == AutoresetMode.SAME_STEP and (terminated or truncated):
            final = {"final_obs": obs, "final_info": info}
            obs, info = env.reset()
        return obs, reward, terminated, truncated, info, final

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every session at once (autoreset as the mode says)."""
        actions = list(iterate(self.action_space, actions))
        results = list(self._pool.map(self._one_step, range(self.num_envs), actions))
        infos: dict[str, Any] = {}
        for i, (obs, reward, terminated, truncated, info, final) in enumerate(results):
            self._env_obs[i] = obs
            self._rewards[i] = reward
            self._terminations[i] = terminated
            self._truncations[i] = truncated
            if final is not None:
                infos = self._add_info(infos, final, i)
            infos = self._add_info(infos, info, i)
        self._observations = concatenate(
            self.single_observation_space, self._env_obs, self._observations
        )
        self._autoreset_envs = np.logical_or(self._terminations, self._truncations)
        return (
            deepcopy(self._observations) if self.copy else self._observations,
            np.copy(self._rewards),
            np.copy(self._terminations),
            np.copy(self._truncations),
            infos,
        )

    def render(self) -> tuple[Any, ...] | None:
        """Every session's last frame."""
        return tuple(env.render() for env in self.envs)

    def close_extras(self, **kwargs: Any) -> None:
        """Close every session."""
        try:
            list(self._pool.map(lambda env: env.close(), self.envs))
        finally:
            self._pool.shutdown(wait=False)


def to_gymnasium_vector(
    clients: Sequence[Any] | Callable[[], Any],
    n: int | None = None,
    *,
    autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    render_mode: str | None = None,
    **reset_options: Any,
) -> OpenEnvVectorEnv:
    """``n`` sessions as a Gymnasium vector env (``gymnasium.vector.VectorEnv``).

    ``clients`` is a list of sync clients (one session each), or a factory called
    ``n`` times. ``reset_options`` go with every reset of every session.

    Example::

        envs = to_gymnasium_vector(lambda: GymEnv(base_url=url), 8, env_id="CartPole-v1")
        obs, infos = envs.reset(seed=0)        # sessions seeded 0, 1, ..., 7
        obs, rewards, terminations, truncations, infos = envs.step(envs.action_space.sample())
    """
    if callable(clients) and not isinstance(clients, Sequence):
        if n is None or n < 1:
            raise ValueError("with a client factory, n (the number of sessions) is needed")
        made = [clients() for _ in range(n)]
    else:
        made = list(clients)
        if n is not None and n != len(made):
            raise ValueError(f"n={n} but {len(made)} clients")
    try:
        envs = [to_gymnasium(c, render_mode=render_mode, **reset_options) for c in made]
        return OpenEnvVectorEnv(envs, autoreset_mode=autoreset_mode)
    except BaseException:
        for client in made:
            client.close()
        raise
