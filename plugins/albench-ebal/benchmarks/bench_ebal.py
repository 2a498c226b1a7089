"""Query times of the deep-ensemble strategies on an MNIST-shaped random pool with LeNet.

    python plugins/albench-ebal/benchmarks/bench_ebal.py [--pool 10000] [--labeled 100]

A query trains ``members - 1`` models (the round model is member 0) and predicts the pool
with every member; it is timed sequentially and with ``parallel=2`` worker processes.
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
    parser.add_argument("--labeled", type=int, default=100)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--budget", type=int, default=10)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.pool, 1, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, args.pool)
    dataset = Dataset("random-mnist", x, y, x[:10], y[:10], 10, scale=255.0, revision="bench")
    trainer = Trainer(dataset, LeNet, TrainingConfig(epochs=args.epochs), "cpu")
    labeled = np.arange(args.labeled)
    model = trainer.fit(x[labeled], y[labeled], seed=0).model
    print(f"pool {args.pool - args.labeled} unlabelled, {args.labeled} labelled, LeNet, "
          f"{args.epochs} epochs, members={args.members}, budget {args.budget}, "
          f"{args.threads} torch threads")
    strategy = get_plugins().get("strategies", "ensemble-variation-ratios").factory
    for parallel in args.parallel:
        context = QueryContext(dataset=dataset, model=model, labeled_idx=labeled,
                               unlabeled_idx=np.arange(args.labeled, args.pool),
                               labeled_labels=y[labeled], rng=np.random.default_rng(0),
                               trainer=trainer)
        start = time.perf_counter()
        strategy(members=args.members, parallel=parallel).select(context, args.budget)
        print(f"  ensemble-variation-ratios parallel={parallel}: "
              f"{time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    trainer.predict_proba(model, x[args.labeled:])
    print(f"  of which predicting the pool with one member: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
