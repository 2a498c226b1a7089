"""The core-set strategies: greedy k-center and its robust MIP refinement."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from albench import QueryContext
from albench_coreset.kcenter import DEFAULT_CHUNK_ELEMENTS, greedy_k_center, min_sq_distances
from albench_coreset.mip import robust_k_center
from albench_coreset.mip_study import (
    STUDY_DISTANCE_CAP,
    STUDY_EPS,
    STUDY_TIME_LIMIT,
    study_outliers,
    study_search,
)


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
    """Robust k-center with outliers (the study's Gurobi MIP), solved with HiGHS.

    Starts from the greedy picks and binary-searches the radius in [greedy/2, greedy].
    Pools larger than ``max_points`` unlabelled examples are cut to a random subsample of
    that size plus the greedy picks (the study's optional subsample mode): the MIP covers
    that subset. ``outliers`` defaults to one per 10,000 points in the problem (labelled +
    subset), the study's rule; with the default subsample that is 0 on every committed suite
    (``coreset-mip-study`` covers the whole pool). When HiGHS gives up before improving on
    the greedy picks, those are returned with a warning.
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


class CoreSetMIPStudy:
    """The study's robust k-center MIP over the whole pool, solved with HiGHS.

    Greedy k-center picks start the search at the study's greedy radius (the distance of
    the last greedy pick from everything chosen before it); ``outliers`` defaults to
    ``int(pool size / 10000)``; each solve may take ``time_limit`` seconds (the study's 180)
    and a solve stopped there counts as infeasible, as in the study, and is noted in the
    round's record. ``eps`` and ``distance_cap`` are the study's. See
    :mod:`albench_coreset.mip_study`.
    """

    def __init__(self, outliers: int | None = None, time_limit: float = STUDY_TIME_LIMIT,
                 eps: float = STUDY_EPS, distance_cap: float | None = STUDY_DISTANCE_CAP,
                 chunk_elements: int = DEFAULT_CHUNK_ELEMENTS, on_solve=None):
        if outliers is not None and outliers < 0:
            raise ValueError(f"coreset-mip-study: outliers must be >= 0, got {outliers}")
        if time_limit <= 0 or eps <= 0 or chunk_elements < 1 or (
                distance_cap is not None and distance_cap <= 0):
            raise ValueError("coreset-mip-study: time_limit, eps, distance_cap and "
                             "chunk_elements must be positive")
        self.outliers = outliers
        self.time_limit = time_limit
        self.eps = eps
        self.distance_cap = distance_cap
        self.chunk_elements = chunk_elements
        self.on_solve = on_solve
        """Called with each solve as it ends (benchmarks print progress with it)."""
        self.last_search = None
        """The last query's :class:`~albench_coreset.mip_study.StudySearch`, for inspection."""

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        pool, centres, greedy = _greedy(context, budget, self.chunk_elements)
        if budget == 0 or budget == len(pool):
            return context.unlabeled_idx[greedy]
        earlier = torch.cat([centres, pool[torch.from_numpy(greedy[:-1]).to(pool.device)]])
        last = pool[int(greedy[-1])][None]
        radius = float(min_sq_distances(last, earlier).sqrt()) if len(earlier) else 0.0
        size = context.dataset.pool_size
        labeled = context.labeled_mask()
        points = _embeddings(context, np.arange(size))
        candidates = np.flatnonzero(~labeled)  # the MIP's columns
        start = np.searchsorted(candidates, context.unlabeled_idx[greedy])
        search = study_search(points, labeled, budget, start, radius,
                              study_outliers(size) if self.outliers is None else self.outliers,
                              self.time_limit, self.eps, self.distance_cap,
                              self.chunk_elements, self.on_solve)
        self.last_search = search
        for solve in search.solves:
            if solve.outcome not in ("feasible", "infeasible"):
                context.note(f"coreset-mip-study: the solve at radius {solve.delta:.6g} ended "
                             f"with '{solve.outcome}' after {solve.solve_seconds:.1f} s (time "
                             f"limit {self.time_limit:g} s); counted as infeasible, as in the "
                             f"study")
        return candidates[search.picks]
