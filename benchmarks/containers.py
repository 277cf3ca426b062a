"""What containers cost: image size, a rebuild after a source edit, start → healthy.

Measures the targets of the container issue on this machine, through the same code
users run (``openenv.deploy.images.build_image``, ``ContainerRuntime``):

* **image size** of echo_env's image (target ≤ 250 MB);
* **rebuild after a one-line source edit** of a package made by ``openenv init``
  (target ≤ 15 s), the median of ``--rebuilds`` edits, each a different line;
* **container start → healthy**: ``ContainerRuntime.start()`` until ``GET /health``
  answers, p50 and max over ``--starts`` containers (target p50 ≤ 1.5 s), each
  removed before the next.

    python -m benchmarks.containers                 # ~1 min after the first build
    python -m benchmarks.containers --json containers.json

The engine is whatever :func:`openenv.runtime.engine.engine` finds ($DOCKER_HOST,
Docker, or Podman started on demand).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

TARGETS = {"image_mb": 250.0, "rebuild_s": 15.0, "start_p50_s": 1.5}


def measure(starts: int, rebuilds: int) -> dict[str, float]:
    from openenv.deploy.images import build_image
    from openenv.runtime.container import ContainerRuntime

    echo = build_image("echo_env", tag="openenv-bench-echo:latest")
    figures: dict[str, float] = {"image_mb": echo.size_mb}

    with tempfile.TemporaryDirectory() as folder:
        openenv = str(Path(sys.executable).with_name("openenv"))
        subprocess.run(
            [openenv, "init", "bench_env", "-o", folder], check=True, capture_output=True
        )
        package = Path(folder) / "bench_env"
        build_image(package, tag="openenv-bench-rebuild:latest")  # the layers to reuse
        source = package / "bench_env" / "server" / "environment.py"
        times = []
        for edit in range(rebuilds):
            source.write_text(source.read_text() + f"\n# edit {edit}\n")
            started = time.perf_counter()
            build_image(package, tag="openenv-bench-rebuild:latest")
            times.append(time.perf_counter() - started)
    figures["rebuild_s"] = statistics.median(times)

    durations = []
    for _ in range(starts):
        runtime = ContainerRuntime(echo.tag)
        started = time.perf_counter()
        runtime.start()
        durations.append(time.perf_counter() - started)
        runtime.stop()
    figures["start_p50_s"] = statistics.median(durations)
    figures["start_max_s"] = max(durations)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = measure(args.starts, args.rebuilds)
    table = Table("figure", "measured", "target", "")
    rows = [
        ("echo_env image", f"{figures['image_mb']:.0f} MB", "≤ 250 MB", "image_mb"),
        ("rebuild after a one-line edit", f"{figures['rebuild_s']:.1f} s", "≤ 15 s", "rebuild_s"),
        (
            f"start → healthy, p50 of {args.starts} (max)",
            f"{figures['start_p50_s']:.2f} s ({figures['start_max_s']:.2f} s)",
            "≤ 1.5 s",
            "start_p50_s",
        ),
    ]
    for name, measured, target, key in rows:
        ok = figures[key] <= TARGETS[key]
        table.add_row(name, measured, target, "[green]pass[/]" if ok else "[red]fail[/]")
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
