"""``openenv list``: the environments available on this machine."""

from __future__ import annotations

from rich.table import Table

from ..discovery import list_environments
from .output import console


def list_command() -> None:
    """List installed environments, and folders under ./envs with an openenv.yaml.

    Any name shown works with: openenv serve NAME
    """
    found = list_environments()
    if not found:
        console.print(
            "No environments found. Create one with `openenv init NAME`, "
            "or pip install an environment package.",
            soft_wrap=True,
        )
        return
    table = Table(title="OpenEnv environments", title_justify="left")
    table.add_column("Name", style="cyan", no_wrap=True)
    table.add_column("Description")
    table.add_column("From", style="dim")
    for info in found:
        table.add_row(info.name, info.description, info.source)
    console.print(table)
