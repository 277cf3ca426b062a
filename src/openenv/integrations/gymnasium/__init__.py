"""Any OpenEnv client as a ``gymnasium.Env``, and many as a Gymnasium vector env.

Example::

    from gym_env import GymEnv
    from openenv.integrations.gymnasium import to_gymnasium, to_gymnasium_vector

    env = to_gymnasium(GymEnv(base_url="http://localhost:8000"), env_id="CartPole-v1")
    obs, info = env.reset(seed=42)                  # exactly gymnasium.make("CartPole-v1")'s
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

    envs = to_gymnasium_vector(lambda: GymEnv(base_url=url), 8, env_id="CartPole-v1")
    obs, infos = envs.reset(seed=0)                 # obs.shape == (8, 4); one session each

Keyword arguments of :func:`to_gymnasium` other than its own are the server's reset
options, sent with every reset (Gymnasium's ``reset(options={...})`` adds to them
for one reset). ``reset(seed=s)`` sends ``seed=s``; ``reset()`` sends no seed.

**Where the spaces come from.** A server with a ``spaces`` MCP tool that returns
``{"observation_space": ..., "action_space": ..., "observation_field": "obs",
"action_field": "action"}`` (descriptions as in
:mod:`openenv.integrations.gym_spaces`) gets exactly those spaces: ``gym_env`` and
``atari_env`` have one. The tool is called with the reset options it takes as
arguments. Observations are then decoded from ``observation_field``, actions
encoded into ``action_field``; ``terminated``/``truncated`` are read from the
observation's fields of those names; ``info`` from its ``info`` field and the
fields the tool lists as ``"info_fields"`` (atari_env: lives, frame numbers). If it also
returns ``"frame_field"`` and ``"render_option"``, ``render_mode="rgb_array"``
works: every reset asks for frames and ``render()`` returns the last one.

**Any other server** gets spaces made from its pydantic schemas (the client's
action and observation types, or ``GET /schema`` for a generic client), field by
field as the table in :mod:`.schema` says (``bool`` and ``Literal`` fields are
``Discrete``, numbers ``Box`` or ``Discrete``, strings :class:`AnyText`, lists of
fixed length ``Box``, nested models ``Dict``).

The observation is a ``Dict`` of the fields that map (without ``done``, ``reward``,
``metadata``, and ``terminated``/``truncated``, which become the flags); fields
that do not (``Optional[...]``, free-form dicts, variable lists) go to ``info``
unchanged, and so does the observation's ``metadata`` (``info["metadata"]``).
The action space is the space of the action's only field, or a ``Dict`` of its
fields; optional fields that do not map are left out (the
server's default applies), and a required one raises
:class:`NotGymnasiumCompatible`, saying which. Pass ``observation_space`` and
``action_space`` (with ``encode_action`` / ``decode_observation``) to map things
yourself. ``terminated`` is ``done`` unless the observation has a ``terminated``
field; ``truncated`` is ``False`` unless it has a ``truncated`` one. A ``None``
reward is ``0.0``.

Errors from the server (an action outside the space, an unknown ``env_id``) are
raised as :class:`openenv.EnvServerError`; the session goes on.

The package, one idea per module (everything public is imported here):

* :mod:`.schema` — Gymnasium spaces from JSON schemas (a pydantic model's fields);
* :mod:`.codecs` — a client's observations and actions as values of those spaces;
* :mod:`.env` — one session as a ``gymnasium.Env`` (:func:`to_gymnasium`);
* :mod:`.vector` — many sessions as a vector env (:func:`to_gymnasium_vector`).

Spaces and values as JSON, the wire format of a ``spaces`` tool, are
:mod:`openenv.integrations.gym_spaces`: outside this package, because servers
(``gym_env``, ``atari_env``) use it without the adapter.
"""

from __future__ import annotations

# Checked once here, where every module of the package passes first, so that a missing
# dependency says what to install instead of failing deep inside gymnasium.vector.
try:
    import gymnasium  # noqa: F401
    import numpy  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"openenv.integrations.gymnasium needs gymnasium and numpy ({exc}); "
        "pip install 'openenv-rl[gymnasium]'"
    ) from exc

from .codecs import NotGymnasiumCompatible
from .env import OpenEnvGymnasiumEnv, to_gymnasium
from .schema import DEFAULT_MAX_TEXT_LENGTH, AnyText
from .vector import OpenEnvVectorEnv, to_gymnasium_vector

__all__ = [
    "DEFAULT_MAX_TEXT_LENGTH",
    "AnyText",
    "NotGymnasiumCompatible",
    "OpenEnvGymnasiumEnv",
    "OpenEnvVectorEnv",
    "to_gymnasium",
    "to_gymnasium_vector",
]
