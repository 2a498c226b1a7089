"""The core-set strategies: greedy k-center and its robust MIP refinement."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from albench.types import QueryContext
from albench_coreset.kcenter import DEFAULT_CHUNK_ELEMENTS, greedy_k_center
from albench_coreset.mip import robust_k_center


def _embeddings(context: QueryContext, idx: np.ndarray) -> torch.Tensor:
    """Penultimate-layer embeddings of pool examples ``idx``, on the model's device."""
    if len(idx) == 0:
        width = context.embeddings(context.unlabeled_idx[:1]).shape[1]
        return torch.empty((0, width), device=context.device)
    return torch.from_numpy(context.embeddings(idx)).to(context.device)


def _greedy(context: QueryContext, budget: int, chunk_elements: int
            ) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Unlabelled and labelled embeddings, and the greedy picks (rows of the unlabelled)."""
    pool = _embeddings(context, context.unlabeled_idx)
    centres = _embeddings(context, context.labeled_idx)
    first = None
    if len(centres) == 0 and budget > 0:
        first = int(context.rng.integers(len(pool)))
    picks, _ = greedy_k_center(pool, centres, budget, first, chunk_elements)
    return pool, centres, picks


class CoreSet:
    """Greedy k-center on the model's embeddings (Sener & Savarese 2018).

    Each pick is the unlabelled example farthest from every labelled or already picked one.
    With no labelled examples the first pick is drawn at random.
    """

    def __init__(self, chunk_elements: int = DEFAULT_CHUNK_ELEMENTS):
        if chunk_elements < 1:
            raise ValueError(f"coreset: chunk_elements must be positive, got {chunk_elements}")
        self.chunk_elements = chunk_elements

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        _, _, picks = _greedy(context, budget, self.chunk_elements)
        return context.unlabeled_idx[picks]


class CoreSetMIP:
    """Robust k-center with outliers (the seed's Gurobi MIP), solved with HiGHS.

    Starts from the greedy picks and binary-searches the radius in [greedy/2, greedy].
    Pools larger than ``max_points`` unlabelled examples are cut to a random subsample of
    that size plus the greedy picks (the seed's subsample mode): the MIP covers that subset.
    ``outliers`` defaults to one per 10,000 points in the problem (labelled + subset), as in
    the seed. When HiGHS gives up before improving on the greedy picks, those are returned
    with a warning.
    """

    def __init__(self, outliers: int | None = None, max_points: int = 2000,
                 time_limit: float = 60.0, node_limit: int = 500, max_solves: int = 8,
                 tolerance: float = 0.01, chunk_elements: int = DEFAULT_CHUNK_ELEMENTS):
        if outliers is not None and outliers < 0:
            raise ValueError(f"coreset-mip: outliers must be >= 0, got {outliers}")
        if (max_points < 1 or time_limit <= 0 or node_limit < 1 or max_solves < 0
                or tolerance <= 0):
            raise ValueError("coreset-mip: max_points, time_limit, node_limit and tolerance "
                             "must be positive and max_solves >= 0")
        self.outliers = outliers
        self.max_points = max_points
        self.time_limit = time_limit
        self.node_limit = node_limit
        self.max_solves = max_solves
        self.tolerance = tolerance
        self.chunk_elements = chunk_elements
        self.last_result = None
        """The last query's :class:`RobustKCenter` (radii and solver log), for inspection."""

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        pool, centres, greedy = _greedy(context, budget, self.chunk_elements)
        if budget == 0 or budget == len(pool):
            return context.unlabeled_idx[greedy]
        work = np.arange(len(pool))
        if len(pool) > self.max_points:
            sample = context.rng.choice(len(pool), self.max_points, replace=False)
            work = np.union1d(sample, greedy)
        outliers = self.outliers
        if outliers is None:
            outliers = (len(work) + len(centres)) // 10_000
        result = robust_k_center(pool[torch.from_numpy(work).to(pool.device)], centres, budget,
                                 np.searchsorted(work, greedy), outliers, self.time_limit,
                                 self.max_solves, self.tolerance, self.node_limit)
        self.last_result = result
        if result.gave_up and not result.improved:
            warnings.warn(f"coreset-mip: HiGHS gave up ({result.attempts[-1].outcome}) "
                          f"without beating the greedy radius "
                          f"{result.start_radius:.4g}; returning the greedy k-center picks",
                          RuntimeWarning, stacklevel=2)
        return context.unlabeled_idx[work[result.picks]]
