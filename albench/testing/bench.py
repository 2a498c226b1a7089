"""Pools and query contexts for benchmark scripts, so that each script only times its part.

``random_images`` is an MNIST-shaped pool of random pixels (MNIST's cost, not its content);
``fashion_mnist_pool`` loads the real one; ``trained_context`` trains a model on a random
labelled subset and returns the query context of the round after it; ``timed_select`` times
one query. ``add_pool_options`` and ``context_from_options`` give scripts the usual flags.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from albench.config import TrainingConfig
from albench.guard import query_context
from albench.plugins import get_plugins
from albench.training import Trainer
from albench.types import Dataset, QueryContext


def random_images(pool_size: int, test_size: int = 1000, seed: int = 0) -> Dataset:
    """Random 28×28 ``uint8`` images with 10 random labels, normalised like MNIST."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(pool_size + test_size, 1, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=pool_size + test_size)
    return Dataset("mnist-shaped", x[:pool_size], y[:pool_size], x[pool_size:], y[pool_size:],
                   10, scale=255.0, mean=(0.1307,), std=(0.3081,), input_range=(0, 255),
                   revision="bench")


def fashion_mnist_pool(pool_size: int | None = None, data_dir: Path | None = None) -> Dataset:
    """Fashion-MNIST from albench's usual places (no download), optionally subsampled."""
    dataset = get_plugins().get("datasets", "fashion-mnist").factory(data_dir=data_dir,
                                                                     download=False)
    return dataset if pool_size is None else dataset.subsample_pool(pool_size)


POOL_DATA = ("random", "fashion-mnist")
"""What a benchmark pool can hold. Random pixels are a worst case for some kernels (CPU max
pooling, BADGE's pruning); Fashion-MNIST is real images of the same shape."""


def benchmark_pool(kind: str, size: int, data_dir: Path | None = None) -> Dataset:
    """A pool of ``size`` MNIST-shaped images of ``kind``, one of :data:`POOL_DATA`."""
    if kind not in POOL_DATA:
        raise ValueError(f"pool data must be one of {', '.join(POOL_DATA)}, got {kind!r}")
    return random_images(size) if kind == "random" else fashion_mnist_pool(size, data_dir)


def trained_context(dataset: Dataset, model: str = "lenet", labeled: int = 1000,
                    epochs: int = 2, device: str | None = None, seed: int = 0) -> QueryContext:
    """The context after training ``model`` for ``epochs`` on ``labeled`` random examples."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    factory = get_plugins().get("models", model).factory
    trainer = Trainer(dataset, factory, TrainingConfig(epochs=epochs, batch_size=64), device)
    chosen = np.random.default_rng(seed).choice(dataset.pool_size, labeled, replace=False)
    fitted = trainer.fit(dataset.x_pool[chosen], dataset.y_pool[chosen], seed).model
    return query_context(dataset, trainer, fitted, chosen, np.random.default_rng(seed))


def timed_select(strategy, context: QueryContext, budget: int, seed: int = 1
                 ) -> tuple[np.ndarray, float]:
    """One ``select`` with a fresh generator: the picks and the seconds it took."""
    start = time.perf_counter()
    picked = strategy.select(replace(context, rng=np.random.default_rng(seed)), budget)
    seconds = time.perf_counter() - start
    if len(np.unique(picked)) != budget:
        raise AssertionError(f"{len(np.unique(picked))} distinct picks, expected {budget}")
    return picked, seconds


def add_pool_options(parser: argparse.ArgumentParser, pool: int = 60_000, budget: int = 1000,
                     labeled: int = 1000, model: str = "mlp", epochs: int = 5) -> None:
    """``--pool --budget --labeled --model --epochs --data --threads`` with these defaults."""
    parser.add_argument("--pool", type=int, default=pool)
    parser.add_argument("--budget", type=int, default=budget)
    parser.add_argument("--labeled", type=int, default=labeled)
    parser.add_argument("--model", default=model)
    parser.add_argument("--epochs", type=int, default=epochs, help="training epochs")
    parser.add_argument("--data", type=Path, help="data root (default: albench's usual search)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")


def context_from_options(args: argparse.Namespace, dataset: Dataset | None = None
                         ) -> QueryContext:
    """Apply ``--threads``, train on Fashion-MNIST (or ``dataset``) and print what was built."""
    if args.threads:
        torch.set_num_threads(args.threads)
    dataset = dataset or fashion_mnist_pool(args.pool, args.data)
    context = trained_context(dataset, args.model, args.labeled, args.epochs, "cpu")
    print(f"{dataset.name}: pool {dataset.pool_size}, unlabelled {len(context.unlabeled_idx)}, "
          f"model {args.model} ({args.epochs} epochs on {args.labeled}), budget {args.budget}, "
          f"torch threads {torch.get_num_threads()}")
    return context
