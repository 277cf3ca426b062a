"""``openenv demo train``: a tiny model learns to say a word, by GRPO, on this machine.

The run is :func:`openenv.integrations.tiny_grpo.train` (TRL's ``GRPOTrainer``,
a model and tokenizer made locally, the ``say_word`` environment served by
``openenv serve``); this command adds the options, the progress bar and the verdict.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .output import CliError, console

TRAINING_MODULES = ("torch", "trl", "transformers", "datasets", "matplotlib")


def train_command(
    steps: Annotated[int, typer.Option(min=1, help="GRPO steps (20 or more to judge).")] = 200,
    generations: Annotated[
        int, typer.Option(min=2, help="Completions per step, each an episode in its own session.")
    ] = 16,
    lr: Annotated[float, typer.Option(min=0.0, help="Learning rate, constant.")] = 1e-2,
    temperature: Annotated[
        float, typer.Option(min=0.0, help="Sampling temperature of the completions.")
    ] = 1.0,
    target: Annotated[str, typer.Option(help="The word the model learns to say.")] = "hello",
    seed: Annotated[int, typer.Option(min=0, help="Seeds the model's weights and sampling.")] = 0,
    out: Annotated[
        Path, typer.Option(help="Where the model, rewards.csv and rewards.png go.")
    ] = Path("openenv-demo/train"),
) -> None:
    """Train a tiny model with TRL's GRPO against a served environment, on the CPU.

    A random 2-layer Qwen2 and its tokenizer are made locally (nothing is
    downloaded); the say_word environment (reward: the target's letters in place,
    +0.5 for the word alone) is served by `openenv serve`, one session per
    completion. Prints each step's mean reward, writes the curve (rewards.csv,
    rewards.png) to --out, and fails when a run of 20 steps or more did not learn:
    the last 10 steps' mean reward under 3 times the first 10's. The full 200 steps
    take a few minutes on 2 cores (docs/training.md).
    """
    missing = [name for name in TRAINING_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise CliError(
            f"openenv demo train needs the training extra ({', '.join(missing)} missing): "
            "bash scripts/install.sh --test, or pip install -e '.[training]' torch==2.13.0"
        )
    from ..integrations.tiny_grpo import train

    console.print(
        f"GRPO: a tiny model learns to say {target!r}; {steps} steps x {generations} "
        f"episodes; outputs in {out}/",
        soft_wrap=True,
    )
    with Progress(
        TextColumn("[bold]training"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps  reward {task.fields[reward]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as progress:
        bar = progress.add_task("train", total=steps, reward="-")

        def on_step(step: int, total: int, reward: float, elapsed_s: float) -> None:
            progress.update(bar, completed=step, reward=f"{reward:.3f}")
            if not console.is_terminal or step % 10 == 0 or step == total:
                progress.console.print(
                    f"step {step:4d}/{total}  reward {reward:.3f}  {elapsed_s:6.1f} s"
                )

        result = train(
            steps,
            generations=generations,
            lr=lr,
            temperature=temperature,
            target=target,
            seed=seed,
            out=out,
            on_step=on_step,
        )
    console.print(result.summary(), soft_wrap=True)
    if steps >= 20 and not result.learned:
        raise CliError(f"the run did not learn: {result.summary()}")
