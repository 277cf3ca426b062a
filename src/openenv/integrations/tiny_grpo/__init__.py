"""A GRPO run that learns on a CPU, with nothing downloaded: ``openenv demo train``.

A tiny random Qwen2 model and its tokenizer are made here
(:mod:`openenv.integrations.tiny_lm`); the ``say_word`` environment
(:mod:`.say_word`: say the target word, rewarded per letter in place) is served by
``openenv serve`` in a subprocess, a session per rollout through an
:class:`openenv.EnvPool`; TRL's ``GRPOTrainer`` generates, and
:class:`openenv.integrations.trl.RolloutFunction` plays each completion as an
episode and hands the environment's reward to the trainer. Needs the ``training``
extra (TRL, torch, matplotlib).

Example::

    from pathlib import Path
    from openenv.integrations.tiny_grpo import train

    result = train(steps=4, out=Path("runs/smoke"))    # a smoke run, about a minute
    result.rewards                                     # one mean reward per GRPO step
    result.learned                                     # last 10 steps >= 3x the first 10

Each step prints a line (step, mean reward, time); ``rewards.csv`` and
``rewards.png`` (the curve) are written to ``out``.
"""

from __future__ import annotations

import csv
import os
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_FOLDER = Path(__file__).resolve().with_name("env")
"""The folder ``openenv serve`` is given: an ``openenv.yaml`` naming :mod:`.say_word`."""

LEARNED_RATIO = 3.0
"""A run learned when the mean reward of its last 10 steps is this many times the first 10."""

__all__ = ["ENV_FOLDER", "TrainingResult", "print_step", "train", "write_curve"]


@dataclass
class TrainingResult:
    """What :func:`train` measured."""

    rewards: list[float] = field(default_factory=list)
    """The mean environment reward of each GRPO step's completions."""
    episodes: int = 0
    """Episodes the environment played (one per completion)."""
    wall_s: float = 0.0
    server_stopped: bool = False
    """Whether the environment's server was gone once training ended."""
    out: Path = Path(".")

    @property
    def first(self) -> float:
        """Mean reward of the first 10 steps (NaN before any)."""
        return statistics.fmean(self.rewards[:10]) if self.rewards else float("nan")

    @property
    def last(self) -> float:
        """Mean reward of the last 10 steps (NaN before any)."""
        return statistics.fmean(self.rewards[-10:]) if self.rewards else float("nan")

    @property
    def learned(self) -> bool:
        """At least 20 steps, and the last 10 earned ``LEARNED_RATIO`` times the first 10."""
        return len(self.rewards) >= 20 and self.last >= LEARNED_RATIO * self.first

    def summary(self) -> str:
        """One line: first and last 10 steps' mean reward, their ratio, the verdict."""
        ratio = f"{self.last / self.first:.1f}x" if self.first else "no ratio: first is 0"
        verdict = "learned" if self.learned else "not learned"
        if len(self.rewards) < 20:
            verdict = "too short to judge (20 steps at least)"
        return (
            f"mean reward: first 10 steps {self.first:.3f}, last 10 {self.last:.3f} "
            f"({ratio}; target {LEARNED_RATIO:g}x): {verdict}; {self.wall_s:.0f} s; "
            f"curve in {self.out / 'rewards.png'}"
        )


def print_step(step: int, steps: int, reward: float, elapsed_s: float) -> None:
    """The default progress report: one line per GRPO step."""
    print(f"step {step:4d}/{steps}  reward {reward:.3f}  {elapsed_s:6.1f} s", flush=True)


def train(
    steps: int = 200,
    *,
    generations: int = 16,
    lr: float = 1e-2,
    temperature: float = 1.0,
    target: str = "hello",
    seed: int = 0,
    out: Path = Path("runs/tiny_grpo"),
    on_step: Callable[[int, int, float, float], None] = print_step,
) -> TrainingResult:
    """Train a tiny model with GRPO to say ``target``; return the per-step rewards.

    ``generations`` completions per step, each one episode in its own session;
    ``lr`` is constant (no warm-up or decay: the run is short); ``temperature``
    is the sampling temperature (above 1 keeps exploring longer); ``on_step(step,
    steps, mean_reward, elapsed_s)`` is called after each step.
    """
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from transformers.utils import logging as transformers_logging
    from trl import GRPOConfig, GRPOTrainer

    from ...client.envpool import EnvPool
    from ..tiny_lm import make_tiny_lm
    from ..trl import RolloutFunction, env_reward
    from .say_word import SayWordClient

    # TRL 1.16 still calls transformers' gradient_checkpointing names, deprecated in 5.x:
    # warnings the user can do nothing about. So are the bars of a 1 MB model's files.
    warnings.filterwarnings("ignore", r".*gradient_checkpointing.*deprecated", FutureWarning)
    transformers_logging.disable_progress_bar()
    torch.manual_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    model_dir = make_tiny_lm(out / "model", seed=seed)
    result = TrainingResult(out=out)
    started = time.perf_counter()

    class Progress(TrainerCallback):  # type: ignore[misc]
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            if logs and "reward" in logs:
                result.rewards.append(float(logs["reward"]))
                on_step(
                    len(result.rewards), steps, result.rewards[-1], time.perf_counter() - started
                )

    config = GRPOConfig(
        output_dir=str(out / "trainer"),
        per_device_train_batch_size=generations,
        num_generations=generations,
        max_completion_length=8,
        max_steps=steps,
        learning_rate=lr,
        temperature=temperature,
        lr_scheduler_type="constant",
        beta=0.0,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        disable_tqdm=True,
        seed=seed,
    )
    dataset = Dataset.from_list([{"prompt": "Say it."}] * (steps * generations))
    with EnvPool.from_env(SayWordClient, ENV_FOLDER, n=generations) as pool:
        rollout = RolloutFunction(
            pool, max_turns=1, max_new_tokens=8, reset_options={"target": target}
        )
        trainer = GRPOTrainer(
            model=AutoModelForCausalLM.from_pretrained(model_dir),
            processing_class=AutoTokenizer.from_pretrained(model_dir),
            reward_funcs=env_reward,
            args=config,
            train_dataset=dataset,
            rollout_func=rollout,
            callbacks=[Progress()],
        )
        trainer.remove_callback(PrinterCallback)  # one line per step instead of its dicts
        trainer.train()
    result.episodes = rollout.episodes
    result.server_stopped = not any(runtime.health() for runtime in pool.runtimes)
    result.wall_s = time.perf_counter() - started
    write_curve(out, result.rewards)
    return result


def write_curve(out: Path, rewards: list[float]) -> None:
    """``rewards.csv`` (step, reward) and ``rewards.png`` (the curve) in ``out``."""
    with open(out / "rewards.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "reward"])
        writer.writerows((i + 1, round(r, 6)) for i, r in enumerate(rewards))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.plot(range(1, len(rewards) + 1), rewards, linewidth=1)
    axes.set_xlabel("GRPO step")
    axes.set_ylabel("mean reward")
    axes.set_title("tiny Qwen2 on say_word (CPU)")
    figure.tight_layout()
    figure.savefig(out / "rewards.png", dpi=100)
    plt.close(figure)
