"""The seeds of a run: independent streams per purpose and round, and the initial set."""

from __future__ import annotations

import numpy as np

from albench.spec import RunSpec

INITIAL_SET, MODEL, STRATEGY = 0, 1, 2
"""Purposes that keep the seed streams of one run independent."""


def derived_seed(seed: int, purpose: int, round_: int = 0) -> int:
    """A seed for one purpose and round, independent of every other stream."""
    return int(np.random.SeedSequence([seed, purpose, round_]).generate_state(1)[0])


def initial_labeled(spec: RunSpec, pool_size: int) -> np.ndarray:
    """The random initial set: identical for every strategy run with the same seed."""
    for name in ("initial_labeled", "batch_size"):
        if getattr(spec, name) > pool_size:
            raise ValueError(f"{spec.label}: {name}={getattr(spec, name)} exceeds the pool of "
                             f"{pool_size}")
    rng = np.random.default_rng(derived_seed(spec.seed, INITIAL_SET))
    return np.sort(rng.choice(pool_size, spec.initial_labeled, replace=False))
