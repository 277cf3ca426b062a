"""Containers from the command line: ``openenv ps``, ``openenv down`` and
``openenv serve ENV --isolation container``."""

from __future__ import annotations

import os
import signal
import socket
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from .output import CliError, console, err_console

if TYPE_CHECKING:
    from ..discovery import FoundEnvironment


def our_containers(*, all_states: bool = True) -> list[dict[str, Any]]:
    """The containers OpenEnv started on this engine, as rows for ``ps`` and ``down``."""
    from ..runtime.engine import LABEL, engine

    rows = []
    for container in engine().api.containers(all=all_states, filters={"label": f"{LABEL}=1"}):
        labels = container.get("Labels") or {}
        host, pid = labels.get("openenv.owner.host", ""), labels.get("openenv.owner.pid", "")
        ports = [
            f"{p.get('IP') or '0.0.0.0'}:{p['PublicPort']}"
            for p in container.get("Ports") or []
            if p.get("PublicPort")
        ]
        rows.append(
            {
                "id": str(container["Id"]),
                "image": labels.get("openenv.image") or container.get("Image", ""),
                "state": container.get("State", ""),
                "status": container.get("Status", ""),
                "url": f"http://{ports[0]}" if ports else "",
                "owner": f"{host} pid {pid}" if pid else "?",
                "orphan": _orphan(host, pid),
            }
        )
    return rows


def _orphan(host: str, pid: str) -> bool:
    """Whether the process that started a container is gone (only known on this host)."""
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def ps_command() -> None:
    """List the containers OpenEnv started (running or not), with their owners.

    A container whose owner process is gone is an orphan; `openenv down` removes them.
    """
    rows = our_containers()
    if not rows:
        console.print("no OpenEnv containers")
        return
    table = Table("image", "state", "url", "owner", "orphan")
    table.add_column("container", no_wrap=True, min_width=12)
    for row in rows:
        table.add_row(
            escape(row["image"]),
            escape(row["status"] or row["state"]),
            row["url"],
            escape(row["owner"]),
            "yes" if row["orphan"] else "",
            row["id"][:12],
        )
    console.print(table)


def down_command(
    all_containers: Annotated[
        bool, typer.Option("--all", help="Remove every OpenEnv container, not only orphans.")
    ] = False,
) -> None:
    """Remove OpenEnv's orphaned containers (their owner process is gone), or --all of them."""
    from ..runtime.container import remove_container

    removed = 0
    for row in our_containers():
        if all_containers or row["orphan"] or row["state"] in ("exited", "dead", "created"):
            if remove_container(row["id"]):
                removed += 1
                console.print(f"removed {row['id'][:12]} ({escape(row['image'])})")
    console.print(f"{removed} container{'s' if removed != 1 else ''} removed")


def serve_in_container(
    found: FoundEnvironment, *, host: str, port: int, token: str | None, image: str | None
) -> None:
    """Serve ``found`` from one container until Ctrl-C, then remove it."""
    from ..deploy.images import build_image, default_tag
    from ..errors import OpenEnvError
    from ..runtime.container import ContainerRuntime
    from ..runtime.engine import engine
    from .build import progress_display

    if host not in ("127.0.0.1", "localhost"):
        raise CliError(
            "--isolation container publishes on 127.0.0.1 only; put a proxy in front to go wider"
        )
    tag = image or default_tag(found.name)
    if not _image_exists(engine(), tag):
        if image is not None:
            raise CliError(
                f"no image {image} here: build it with openenv build {found.name} -t {image}"
            )
        with progress_display(f"building {tag}") as say:
            built = build_image(found.name, tag=tag, progress=say)
        err_console.print(f"built {tag} ({built.size_mb:.0f} MB) in {built.seconds:.1f} s")
    runtime = ContainerRuntime(tag, port=port, token=token if token is not None else "")
    try:
        url = runtime.start()
    except OpenEnvError as exc:
        raise CliError(str(exc)) from None
    auth = "token required" if runtime.token else "no token"
    console.print(
        f"[bold]openenv[/] serving [cyan]{escape(found.name)}[/] on {url} from container "
        f"{(runtime.container_id or '')[:12]} of {escape(tag)} ({auth}) - Ctrl-C to stop",
        soft_wrap=True,
    )
    # Ctrl-C and SIGTERM only set a flag: an interrupt raised inside a call to the engine
    # could leave its connection mid-reply, and the removal below would wait on it.
    stopped = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stopped.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        while not stopped.wait(1.0):
            if not runtime.health() and runtime._state().get("Status") != "running":
                err_console.print(
                    f"the container stopped: {escape(runtime.logs())}", soft_wrap=True
                )
                raise typer.Exit(1)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # a second Ctrl-C interrupts the removal
        runtime.stop()  # (and the reaper removes the container then)
    console.print("[bold]openenv[/] stopped; container removed")


def _image_exists(client: Any, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False
