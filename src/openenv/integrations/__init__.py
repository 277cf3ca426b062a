"""Bridges between OpenEnv and other frameworks; each needs its framework installed.

* :mod:`openenv.integrations.gymnasium` — any OpenEnv client as a ``gymnasium.Env``
  (``to_gymnasium``) or a Gymnasium vector env (``to_gymnasium_vector``); a package:
  ``schema`` (spaces from pydantic JSON schemas), ``codecs``, ``env``, ``vector``;
* :mod:`openenv.integrations.gym_spaces` — Gymnasium spaces and their values as JSON
  and back (what ``gym_env`` and ``atari_env`` send on the wire, and what the
  adapter reads from them); a module of its own, so servers use it without the adapter.

Nothing here is imported by ``import openenv``.
"""
