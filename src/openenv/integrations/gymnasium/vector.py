"""Many OpenEnv sessions as one Gymnasium vector env: :func:`to_gymnasium_vector`.

Each sub-environment is an :class:`~.env.OpenEnvGymnasiumEnv` that encodes actions
and decodes results; the sessions themselves are an :class:`~openenv.EnvPool`'s
(one event loop, every session in flight at once), and the vector env batches
what they return as ``SyncVectorEnv`` does.

Example::

    envs = to_gymnasium_vector(lambda: GymEnv(base_url=url), 8, env_id="CartPole-v1")
    obs, infos = envs.reset(seed=0)        # sessions seeded 0, 1, ..., 7
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from copy import deepcopy
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array, iterate

from ...client.envpool import AsyncEnvPool, Batch, LoopThread, SessionFailure
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

    Every ``reset``/``step`` calls all sessions at once (through an
    :class:`~openenv.AsyncEnvPool`), so a step costs about one round trip, not ``n``.
    A session that fails raises its error (:class:`~openenv.EnvServerError`, or
    :class:`~openenv.SessionLostError` for infrastructure). Autoreset follows
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
        self._loop = LoopThread("openenv-vector")
        try:
            self._pool: AsyncEnvPool[Any] = self._loop.call(
                lambda: AsyncEnvPool.from_clients([env.client for env in self.envs])
            )
        except BaseException:
            self._loop.stop()
            raise
        for env in self.envs:
            # The pool has the sessions now; the clients' own (opened to read the
            # spaces) would hold an environment each on the server for nothing.
            env.client.end_session()
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
        results = self._loop.run(self._reset([(i, seeds[i], options or None) for i in chosen]))
        infos: dict[str, Any] = {}
        for i in chosen:
            obs, info = self.envs[i].decode_reset(results[i])
            self._env_obs[i] = obs
            self._terminations[i] = self._truncations[i] = self._autoreset_envs[i] = False
            infos = self._add_info(infos, info, i)
        self._observations = concatenate(
            self.single_observation_space, self._env_obs, self._observations
        )
        return (deepcopy(self._observations) if self.copy else self._observations), infos

    async def _reset(self, calls: list[tuple[int, int | None, dict[str, Any] | None]]) -> dict:
        """Reset sessions at once: ``calls`` are ``(index, seed, options)``."""

        async def one(index: int, seed: int | None, options: dict[str, Any] | None) -> Any:
            sent = self.envs[index].reset_request(seed, options)
            batch = await self._pool.reset([sent.pop("seed", None)], indices=[index], **sent)
            return _succeeded(batch)[0]

        done = await asyncio.gather(*(one(*call) for call in calls))
        return {call[0]: result for call, result in zip(calls, done, strict=True)}

    async def _step(self, actions: list[Any]) -> tuple[dict, dict]:
        """Step the sessions (resetting, in next-step mode, those that ended last step);
        in same-step mode, reset those that end now. Results by index: (stepped, reset)."""
        next_step = self.autoreset_mode == AutoresetMode.NEXT_STEP
        resetting = [i for i in range(self.num_envs) if next_step and self._autoreset_envs[i]]
        stepping = [i for i in range(self.num_envs) if i not in resetting]
        sent = [self.envs[i].step_request(actions[i]) for i in stepping]
        resets, batch = await asyncio.gather(
            self._reset([(i, None, None) for i in resetting]),
            self._pool.step(sent, indices=stepping),
        )
        stepped = dict(zip(stepping, _succeeded(batch), strict=True))
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
            ended = [i for i, r in stepped.items() if any(self.envs[i].decode_flags(r))]
            resets = await self._reset([(i, None, None) for i in ended])
        return stepped, resets

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every session at once (autoreset as the mode says)."""
        actions = list(iterate(self.action_space, actions))
        if self.autoreset_mode == AutoresetMode.DISABLED and self._autoreset_envs.any():
            i = int(np.flatnonzero(self._autoreset_envs)[0])
            raise RuntimeError(f"session {i} is done: reset it (autoreset_mode='disabled')")
        stepped, resets = self._loop.run(self._step(actions))
        infos: dict[str, Any] = {}
        for i in range(self.num_envs):
            if i not in stepped:  # next-step autoreset: this step was a reset
                obs, info = self.envs[i].decode_reset(resets[i])
                reward, terminated, truncated = 0.0, False, False
            else:
                obs, reward, terminated, truncated, info = self.envs[i].decode_step(stepped[i])
                if i in resets:  # same-step autoreset: the episode's end goes in info
                    infos = self._add_info(infos, {"final_obs": obs, "final_info": info}, i)
                    obs, info = self.envs[i].decode_reset(resets[i])
            self._env_obs[i] = obs
            self._rewards[i] = reward
            self._terminations[i] = terminated
            self._truncations[i] = truncated
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
        """End every session, then close the clients (stopping servers they started)."""
        try:
            self._loop.run(self._pool.close())
        finally:
            self._loop.stop()
            for env in self.envs:
                env.close()


def _succeeded(batch: Batch[Any]) -> list[Any]:
    """The batch's results; the first failure's error raised if any failed."""
    for entry in batch:
        if isinstance(entry, SessionFailure):
            raise entry.error
    return list(batch)


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
