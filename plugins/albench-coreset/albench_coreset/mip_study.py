"""Robust k-center over the whole pool, as the study's ``CoreSetMIPSampling.query_regular``
(dsgissin/DiscriminativeActiveLearning, ``query_methods.py`` L478-744), solved with HiGHS.

For a radius ``delta``, binary ``u_j`` (pool point ``j`` is a centre; fixed to 1 for labelled
points) and ``xi_i`` (point ``i`` is an outlier) satisfy ``sum u = labelled + budget``,
``sum xi <= outliers`` and ``sum_{j: d(i,j) <= delta} u_j + xi_i >= 1`` for every pool point.
Rows of points within ``delta`` of a labelled point hold a fixed ``u_j = 1`` and are always
satisfied, so they (and the labelled columns, which then appear in no other row) are left out:
the same feasible set, smaller. Distances are the study's: ``sqrt(clip(|x|² + |y|² - 2x·y,
0, cap²))`` in float32, with ``cap`` 100 (L518-528).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import sparse

from albench_coreset.mip import solve_cover

STUDY_EPS = 0.01
"""The study's absolute bracket width at which the binary search stops (L704)."""
STUDY_TIME_LIMIT = 180.0
"""The study's Gurobi time limit per solve, in seconds (L639)."""
STUDY_DISTANCE_CAP = 100.0
"""The study clips squared distances at 10,000 (L526), so no distance exceeds 100."""


def study_outliers(pool_size: int) -> int:
    """The study's outlier budget: one per 10,000 pool points, rounded down (L699)."""
    return int(pool_size / 10000)


@dataclass
class Neighbourhoods:
    """The covering rows at one radius, and the pairwise distances just below and above it."""

    delta: float
    rows: np.ndarray
    """Pool positions of the points farther than ``delta`` from every labelled point."""
    cover: sparse.csr_matrix
    """``rows × candidates``: 1 where the candidate is within ``delta`` of the row's point."""
    below: float
    """Largest pairwise distance ``<= delta`` (the study's ``get_graph_max``)."""
    above: float
    """Smallest pairwise distance ``>= delta``, 10,000 if none (the study's ``get_graph_min``)."""


def capped_sq_distances(x: torch.Tensor, y: torch.Tensor, cap: float | None) -> torch.Tensor:
    """Squared distances between rows of ``x`` and ``y`` as the study computes them (float32,
    ``|x|² + |y|² - 2x·y`` clipped to ``[0, cap²]``); the study's distance is their root."""
    sq = torch.addmm(x.square().sum(1)[:, None], x, y.T, alpha=-2).add_(y.square().sum(1))
    return sq.clamp_(min=0, max=None if cap is None else cap * cap)


def neighbourhoods(points: torch.Tensor, labeled: np.ndarray, delta: float,
                   cap: float | None = STUDY_DISTANCE_CAP,
                   block_elements: int = 2**24) -> Neighbourhoods:
    """One pass over all pairs of ``points`` (pool order; ``labeled`` a boolean mask).

    Distances are compared squared (the root is monotone). Memory: one block of at most
    ``block_elements`` distances, plus the covering entries.
    """
    n = len(points)
    candidates = np.flatnonzero(~labeled)
    column = np.full(n, -1, dtype=np.int64)
    column[candidates] = np.arange(len(candidates))
    labeled_t = torch.from_numpy(labeled).to(points.device)
    labeled_cols = torch.from_numpy(np.flatnonzero(labeled)).to(points.device)
    step = max(1, block_elements // max(n, 1))
    delta_sq = delta * delta
    below, above = 0.0, 10000.0 ** 2
    rows, entries_r, entries_c, offset = [], [], [], 0
    for start in range(0, n, step):
        sq = capped_sq_distances(points[start:start + step], points, cap)
        near = sq <= delta_sq
        below = max(below, float(sq[near].max()))  # few entries: each point's neighbours
        above = min(above, float(sq.masked_fill_(sq < delta_sq, float("inf")).min()))
        covered = near[:, labeled_cols].any(1) | labeled_t[start:start + step]
        block_rows = torch.nonzero(~covered).flatten()
        r, c = torch.nonzero(near[block_rows], as_tuple=True)
        rows.append(block_rows.cpu().numpy() + start)
        entries_r.append(r.cpu().numpy() + offset)
        entries_c.append(column[c.cpu().numpy()])
        offset += len(block_rows)
    empty = np.empty(0, dtype=np.int64)
    rows_all = np.concatenate(rows) if rows else empty
    r_all = np.concatenate(entries_r) if entries_r else empty
    c_all = np.concatenate(entries_c) if entries_c else empty
    cover = sparse.csr_matrix((np.ones(len(r_all)), (r_all, c_all)),
                              shape=(len(rows_all), len(candidates)))
    return Neighbourhoods(delta, rows_all, cover, float(np.sqrt(max(below, 0.0))),
                          float(np.sqrt(above)))


def solve_at(graph: Neighbourhoods, budget: int, outliers: int, time_limit: float
             ) -> tuple[np.ndarray | None, str]:
    """The feasibility MIP at ``graph.delta``: chosen candidate columns (or None), outcome.
    A solve stopped at ``time_limit`` counts as infeasible, as in the study."""
    return solve_cover(graph.cover, budget, outliers, {"time_limit": time_limit},
                       keep_incumbent=False, limit="time limit")


@dataclass(frozen=True)
class Solve:
    """One solve of the search: the radius, what HiGHS said, seconds building and solving."""

    delta: float
    outcome: str
    build_seconds: float
    solve_seconds: float
    rows: int
    nonzeros: int


@dataclass
class StudySearch:
    """The search's answer: candidate columns picked, the radius bracket, and every solve."""

    picks: np.ndarray
    upper: float
    lower: float
    solves: list[Solve] = field(default_factory=list)


def study_search(points: torch.Tensor, labeled: np.ndarray, budget: int,
                 greedy: np.ndarray, greedy_radius: float, outliers: int,
                 time_limit: float = STUDY_TIME_LIMIT, eps: float = STUDY_EPS,
                 cap: float | None = STUDY_DISTANCE_CAP, block_elements: int = 2**24,
                 on_solve: Callable[[Solve], None] | None = None) -> StudySearch:
    """The study's binary search on the radius (L703-744).

    Starts from the greedy picks (candidate columns) at ``greedy_radius``, with the lower
    bound at half of it. While the bracket is wider than ``eps``: solve at its midpoint; a
    feasible solve lowers the upper bound to the largest pairwise distance not above the
    midpoint and keeps its picks; an infeasible one, or one stopped at ``time_limit``, raises
    the lower bound to the smallest pairwise distance not below it. ``on_solve`` is called
    with each :class:`Solve` as it ends.
    """
    search = StudySearch(np.asarray(greedy, dtype=np.int64), greedy_radius, greedy_radius / 2)
    while search.upper - search.lower > eps:
        delta = (search.upper + search.lower) / 2
        began = time.perf_counter()
        graph = neighbourhoods(points, labeled, delta, cap, block_elements)
        built = time.perf_counter()
        picks, outcome = solve_at(graph, budget, outliers, time_limit)
        search.solves.append(Solve(delta, outcome, built - began, time.perf_counter() - built,
                                   len(graph.rows), graph.cover.nnz))
        if on_solve is not None:
            on_solve(search.solves[-1])
        if picks is None:
            search.lower = max(delta, graph.above)
        else:
            search.picks = picks
            search.upper = min(delta, graph.below)
    return search
