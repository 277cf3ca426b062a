"""Train a tiny language model with TRL's GRPOTrainer against a served OpenEnv environment.

Everything is made here, on a CPU, with nothing downloaded: a tiny random Qwen2
model and its tokenizer (:mod:`openenv.integrations.tiny_lm`), the ``say_word``
environment served by ``openenv serve`` (one server, a session per rollout, through
an :class:`openenv.EnvPool`), and GRPO through
:class:`openenv.integrations.trl.RolloutFunction`: the model says something, the
environment scores it, the reward goes to the trainer.

    python examples/tiny_grpo/train.py                 # the full run, a few minutes
    python examples/tiny_grpo/train.py --steps 4       # a smoke run

It prints each step's mean reward as it goes, and writes ``rewards.csv`` and
``rewards.png`` (the curve) to ``--out``. At the end it compares the mean reward of
the last 10 steps with the first 10 (the target: at least 3 times).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "say_word"))  # the environment's package, for its client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="GRPO steps (200)")
    parser.add_argument("--generations", type=int, default=16, help="completions per prompt (16)")
    parser.add_argument("--lr", type=float, default=3e-2, help="learning rate (3e-2, constant)")
    parser.add_argument("--target", default="hello", help="the word to learn to say")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/tiny_grpo"), help="outputs here")
    args = parser.parse_args(argv)
    result = train(args.steps, args.generations, args.lr, args.target, args.seed, args.out)
    return 0 if result["learned"] or args.steps < 20 else 1


def train(
    steps: int, generations: int, lr: float, target: str, seed: int, out: Path
) -> dict[str, Any]:
    """Run GRPO; return the per-step rewards and whether the run learned."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import torch
    from datasets import Dataset
    from say_word import SayWordClient
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    from openenv import EnvPool
    from openenv.integrations.tiny_lm import make_tiny_lm
    from openenv.integrations.trl import RolloutFunction, env_reward

    torch.manual_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    model_dir = make_tiny_lm(out / "model", seed=seed)
    rewards: list[float] = []
    started = time.perf_counter()

    class Progress(TrainerCallback):  # type: ignore[misc]
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            if logs and "reward" in logs:
                rewards.append(float(logs["reward"]))
                print(
                    f"step {len(rewards):4d}/{steps}  reward {rewards[-1]:.3f}  "
                    f"{time.perf_counter() - started:6.1f} s",
                    flush=True,
                )

    config = GRPOConfig(
        output_dir=str(out / "trainer"),
        per_device_train_batch_size=generations,
        num_generations=generations,
        max_completion_length=8,
        max_steps=steps,
        learning_rate=lr,
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
    server = str(HERE / "say_word")
    with EnvPool.from_env(SayWordClient, server, n=generations) as pool:
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
        trainer.remove_callback(PrinterCallback)  # our one line per step instead of its dicts
        trainer.train()
    first = statistics.fmean(rewards[:10]) if rewards else float("nan")
    last = statistics.fmean(rewards[-10:]) if rewards else float("nan")
    learned = len(rewards) >= 20 and last >= 3 * first
    write_curve(out, rewards)
    print(
        f"mean reward: first 10 steps {first:.3f}, last 10 {last:.3f} "
        f"({last / first if first else float('inf'):.1f}x; target 3x): "
        f"{'learned' if learned else 'not learned'}; {time.perf_counter() - started:.0f} s; "
        f"curve in {out / 'rewards.png'}"
    )
    return {
        "rewards": rewards,
        "first": first,
        "last": last,
        "learned": learned,
        "episodes": rollout.episodes,
        "server_stopped": not any(r.health() for r in pool.runtimes),
    }


def write_curve(out: Path, rewards: list[float]) -> None:
    """``rewards.csv`` (step, reward) and ``rewards.png`` (the curve)."""
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


if __name__ == "__main__":
    raise SystemExit(main())
