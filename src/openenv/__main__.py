"""``python -m openenv``: the same as the ``openenv`` command."""

from .cli.main import main

main()
