"""The conformance checks and the tiny real pools they run on."""

from __future__ import annotations

import random
from typing import Callable

import numpy as np
import torch

from albench.loop import validate_selection
from albench.training import Trainer, TrainingConfig
from albench.types import Dataset, QueryContext

_FAST_TRAINING = TrainingConfig(epochs=15, batch_size=16, lr=3e-3, val_fraction=0.2)


def toy_dataset(n_pool: int = 120, n_test: int = 60, num_classes: int = 3, dim: int = 4,
                seed: int = 0, images: bool = False) -> Dataset:
    """Well-separated Gaussian classes; ``images=True`` gives 1×8×8 uint8 'images'."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, size=(num_classes, dim))
    y = np.arange(n_pool + n_test) % num_classes
    rng.shuffle(y)
    x = (centres[y] + rng.normal(size=(len(y), dim))).astype(np.float32)
    if images:
        x = np.tile(x, (1, -(-64 // dim)))[:, :64]
        x = np.clip((x + 10) * 12, 0, 255).astype(np.uint8).reshape(-1, 1, 8, 8)
        return Dataset("toy-images", x[:n_pool], y[:n_pool], x[n_pool:], y[n_pool:],
                       num_classes, scale=255.0, mean=(0.5,), std=(0.25,),
                       input_range=(0, 255))
    return Dataset("toy", x[:n_pool], y[:n_pool], x[n_pool:], y[n_pool:], num_classes)


def toy_context(dataset: Dataset | None = None, labeled_idx=None, n_labeled: int = 12,
                model: str = "mlp", seed: int = 0,
                training: TrainingConfig = _FAST_TRAINING) -> QueryContext:
    """A real query context: a model of the named architecture trained on a labelled subset."""
    from albench.plugins import get_plugins

    dataset = dataset or toy_dataset()
    if labeled_idx is None:
        labeled_idx = np.random.default_rng(seed).choice(dataset.pool_size, n_labeled,
                                                         replace=False)
    labeled_idx = np.asarray(labeled_idx, dtype=np.int64)
    factory = get_plugins().get("models", model).factory
    trainer = Trainer(dataset, factory, training, "cpu")
    if len(labeled_idx):
        fitted = trainer.fit(dataset.x_pool[labeled_idx], dataset.y_pool[labeled_idx], seed)
        trained = fitted.model
    else:
        trained = trainer.new_model(seed).eval()
    mask = np.zeros(dataset.pool_size, dtype=bool)
    mask[labeled_idx] = True
    return QueryContext(dataset=dataset, model=trained, labeled_idx=labeled_idx,
                        unlabeled_idx=np.flatnonzero(~mask),
                        labeled_labels=dataset.y_pool[labeled_idx],
                        rng=np.random.default_rng(seed), trainer=trainer)


def _fresh_rng(context: QueryContext, seed: int) -> QueryContext:
    from dataclasses import replace

    return replace(context, rng=np.random.default_rng(seed))


def _select(strategy, context: QueryContext, budget: int, name: str) -> np.ndarray:
    mask = np.zeros(context.dataset.pool_size, dtype=bool)
    mask[context.labeled_idx] = True
    selected = strategy.select(context, budget)
    return validate_selection(selected, budget, mask, name)


def _global_state():
    return (random.getstate(), np.random.get_state()[1].tobytes(),
            torch.random.get_rng_state().numpy().tobytes())


def check_strategy(factory: Callable[..., object], name: str | None = None,
                   model: str = "mlp", images: bool = False, **options) -> None:
    """Run every conformance check on the strategy that ``factory(**options)`` builds.

    Checks: right count, unique, in range, unlabelled; deterministic for a fixed generator;
    a budget equal to the whole unlabelled pool; a pool whose labels are all one class;
    an empty labelled set; no global random state touched.
    """
    name = name or getattr(factory, "__name__", repr(factory))
    dataset = toy_dataset(images=images)
    context = toy_context(dataset, model=model)

    def strategy():
        return factory(**options)

    before = _global_state()
    first = _select(strategy(), _fresh_rng(context, 1), 10, name)
    assert _global_state() == before, f"{name} changed global random state (random, " \
        "numpy or torch); draw randomness from context.rng"
    again = _select(strategy(), _fresh_rng(context, 1), 10, name)
    assert np.array_equal(np.sort(first), np.sort(again)), \
        f"{name} is not deterministic for a fixed context.rng"

    small = toy_context(dataset, n_labeled=dataset.pool_size - 7, model=model)
    _select(strategy(), small, len(small.unlabeled_idx), name)

    one_class = np.flatnonzero(dataset.y_pool == 0)[:8]
    _select(strategy(), toy_context(dataset, labeled_idx=one_class, model=model), 5, name)

    _select(strategy(), toy_context(dataset, labeled_idx=[], model=model), 5, name)
