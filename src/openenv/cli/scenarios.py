"""The scenarios ``openenv demo`` runs: every installed package's, found by entry point.

Each environment package lists its scenarios in ``<package>/demo.py`` and registers
them under the ``openenv.demos`` entry point group (:mod:`openenv.demos` says how).
Nothing here imports an environment package by name: the demo plays what is
installed.

The order is the table's: the bundled environments in the order of :data:`TOUR`, then
any other package's by entry point name; a package's own scenarios in its list's order.

Example::

    from openenv.cli.scenarios import scenarios

    list(scenarios())      # ["echo", "echo (sandboxed)", "coding (sandboxed)", ...]
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points

from ..demos import ENTRY_POINT_GROUP, Scenario
from .output import CliError

__all__ = ["TOUR", "scenarios"]

TOUR = (
    "echo_env",
    "coding_env",
    "terminal_env",
    "openapp_env",
    "wordle_env",
    "hangman_env",
    "guess_number_env",
    "gym_env",
    "atari_env",
    "openspiel_env",
    "chess_env",
    "connect4_env",
    "maze_env",
)
"""Entry point names in the order the demo shows them: from the smallest environment,
through agent code, a browser and text games, to Gymnasium, Atari and board games."""


@functools.cache
def scenarios() -> dict[str, Scenario]:
    """Every installed scenario by name, in the demo's order (loaded once).

    A package whose entry point cannot be loaded, or that reuses another's scenario
    name, is a :class:`~openenv.cli.output.CliError` naming it.
    """
    found: dict[str, Scenario] = {}
    source: dict[str, str] = {}
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=_position):
        for item in _load(entry):
            if item.name in found:
                raise CliError(
                    f"two demos named {item.name!r}: entry points {source[item.name]!r} "
                    f"and {entry.name!r} of the {ENTRY_POINT_GROUP} group"
                )
            found[item.name], source[item.name] = item, entry.name
    return found


def _position(entry: EntryPoint) -> tuple[int, str]:
    return (TOUR.index(entry.name) if entry.name in TOUR else len(TOUR), entry.name)


def _load(entry: EntryPoint) -> list[Scenario]:
    try:
        loaded = entry.load()
    except Exception as exc:  # a broken package: say which, whatever it raised
        raise CliError(
            f"cannot load the demos of {entry.name} ({entry.value}): {type(exc).__name__}: {exc}"
        ) from None
    items = [loaded] if isinstance(loaded, Scenario) else loaded
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, Scenario) for i in items):
        raise CliError(
            f"{entry.value} ({ENTRY_POINT_GROUP} entry point {entry.name}) is not "
            "an openenv.demos.Scenario or a list of them"
        )
    return list(items)
