"""Time TypiClust picking 1000 examples from Fashion-MNIST's 60k pool (prints seconds).

Usage: python bench_typiclust.py [--pool 60000] [--budget 1000] [--labeled 1000]
       [--representations embedding,raw] [--data DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from albench_typical import TypiClust

from albench.plugins import get_plugins
from albench.training import Trainer, TrainingConfig
from albench.types import QueryContext


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=60000)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--labeled", type=int, default=1000)
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--representations", default="embedding,raw")
    parser.add_argument("--data", type=Path, help="data root (default: albench's usual search)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    dataset = get_plugins().get("datasets", "fashion-mnist").factory(
        data_dir=args.data, download=False).subsample_pool(args.pool)
    rng = np.random.default_rng(0)
    labeled = rng.choice(dataset.pool_size, args.labeled, replace=False)
    trainer = Trainer(dataset, get_plugins().get("models", args.model).factory,
                      TrainingConfig(epochs=5, batch_size=64), "cpu")
    model = trainer.fit(dataset.x_pool[labeled], dataset.y_pool[labeled], seed=0).model
    unlabeled = np.setdiff1d(np.arange(dataset.pool_size), labeled)
    print(f"pool {dataset.pool_size}, unlabelled {len(unlabeled)}, model {args.model}, "
          f"budget {args.budget}, torch threads {torch.get_num_threads()}")
    for name in args.representations.split(","):
        context = QueryContext(dataset, model, labeled, unlabeled, dataset.y_pool[labeled],
                               np.random.default_rng(1), trainer)
        start = time.perf_counter()
        picked = TypiClust(representation=name).select(context, args.budget)
        seconds = time.perf_counter() - start
        assert len(np.unique(picked)) == args.budget
        print(f"{name:10s} {seconds:8.2f} s  ({1e3 * seconds / len(unlabeled):.3f} ms per "
              f"unlabelled example)")


if __name__ == "__main__":
    main()
