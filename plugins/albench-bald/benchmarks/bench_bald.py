"""Query times of the MC-dropout strategies on an MNIST-shaped random pool with LeNet.

    python plugins/albench-bald/benchmarks/bench_bald.py [--pool 10000] [--budget 10]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from albench.builtin.models import LeNet
from albench.plugins import get_plugins
from albench.training import Trainer, TrainingConfig
from albench.types import Dataset, QueryContext


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", type=int, default=10_000)
    parser.add_argument("--budget", type=int, default=10)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.pool, 1, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, args.pool)
    dataset = Dataset("random-mnist", x, y, x[:10], y[:10], 10, scale=255.0, revision="bench")
    trainer = Trainer(dataset, LeNet, TrainingConfig(), "cpu")
    model = trainer.new_model(0).eval()
    labeled = np.arange(100)

    def context(seed: int) -> QueryContext:
        return QueryContext(dataset=dataset, model=model, labeled_idx=labeled,
                            unlabeled_idx=np.arange(100, args.pool),
                            labeled_labels=y[labeled], rng=np.random.default_rng(seed),
                            trainer=trainer)

    plugins = get_plugins()
    print(f"pool {args.pool - 100} unlabelled, LeNet (untrained), budget {args.budget}, "
          f"{args.threads} torch threads")
    for name in ("bayesian-least-confidence", "variation-ratios", "bayesian-entropy", "bald",
                 "batchbald"):
        strategy = plugins.get("strategies", name).factory()
        start = time.perf_counter()
        strategy.select(context(0), args.budget)
        print(f"  {name:27s} {time.perf_counter() - start:7.1f} s  (default options)")


if __name__ == "__main__":
    main()
