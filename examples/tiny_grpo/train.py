"""Train a tiny language model with TRL's GRPOTrainer against a served OpenEnv environment.

The same run as ``openenv demo train``; the training code, to read or copy, is
:mod:`openenv.integrations.tiny_grpo` (src/openenv/integrations/tiny_grpo/).

    python examples/tiny_grpo/train.py                 # the full run: 200 steps
    python examples/tiny_grpo/train.py --steps 4       # a smoke run

Prints each step's mean reward, writes ``rewards.csv`` and ``rewards.png`` to
``--out``, and exits 1 when a run of 20 steps or more did not learn (the mean reward
of its last 10 steps under 3 times the first 10).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from openenv.integrations.tiny_grpo import train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="GRPO steps (200)")
    parser.add_argument("--generations", type=int, default=16, help="completions per step (16)")
    parser.add_argument("--lr", type=float, default=1e-2, help="learning rate (1e-2, constant)")
    parser.add_argument("--target", default="hello", help="the word to learn to say")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/tiny_grpo"), help="outputs here")
    args = parser.parse_args(argv)
    result = train(
        args.steps,
        generations=args.generations,
        lr=args.lr,
        target=args.target,
        seed=args.seed,
        out=args.out,
    )
    print(result.summary())
    return 0 if result.learned or args.steps < 20 else 1


if __name__ == "__main__":
    raise SystemExit(main())
