"""Robust k-center with outliers as a mixed-integer programme, solved with HiGHS.

For a radius ``delta`` the feasibility problem is: binary ``u_j`` (point ``j`` becomes a
centre) and ``xi_i`` (point ``i`` is left uncovered, an outlier) with

    sum_j u_j = budget,   sum_i xi_i <= outliers,
    sum_{j : d(i, j) <= delta} u_j + xi_i >= 1   for every point i farther than delta
                                                   from every labelled point.

Points within ``delta`` of a labelled point are covered already, so their rows are dropped
and the labelled points never enter as variables. A binary search over ``delta`` between
half the starting (greedy) radius and that radius keeps the smallest feasible one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from albench_coreset.kcenter import min_sq_distances


@dataclass(frozen=True)
class Attempt:
    """One feasibility solve: the radius tried, what HiGHS said, and how long it took."""

    delta: float
    outcome: str
    """``feasible``, ``infeasible``, ``time limit`` or ``failed: <HiGHS message>``."""
    seconds: float


@dataclass
class RobustKCenter:
    """The binary search's answer: picks (rows of the points), their robust radius, the log."""

    picks: np.ndarray
    radius: float
    start_radius: float
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def improved(self) -> bool:
        """Whether some solve beat the starting picks."""
        return any(a.outcome == "feasible" for a in self.attempts)

    @property
    def gave_up(self) -> bool:
        """Whether a solve ended without an answer (time limit or solver failure)."""
        return any(a.outcome not in ("feasible", "infeasible") for a in self.attempts)


def robust_k_center(points: torch.Tensor, centres: torch.Tensor, budget: int,
                    start: np.ndarray, outliers: int, time_limit: float,
                    max_solves: int = 8, tolerance: float = 0.01,
                    node_limit: int | None = None) -> RobustKCenter:
    """Choose ``budget`` rows of ``points`` to cover all but ``outliers`` of them tightly.

    ``centres`` are already chosen (labelled) and ``start`` is a feasible choice (the greedy
    picks) whose radius bounds the search from above. Each of at most ``max_solves`` MIPs
    runs for at most ``node_limit`` branch-and-bound nodes (deterministic) and ``time_limit``
    seconds (a safety net that makes results timing-dependent when it is hit); a solve that
    stops at either limit counts as infeasible, as in the study. The search stops once the
    bracket is narrower than ``tolerance`` times the starting radius. Memory: one
    ``len(points)²`` float32 distance matrix.
    """
    to_labeled = min_sq_distances(points, centres).sqrt().cpu().numpy()
    dist = torch.cdist(points, points).cpu().numpy()

    def radius_of(picks: np.ndarray) -> float:
        nearest = np.minimum(to_labeled, dist[:, picks].min(axis=1)) if len(picks) \
            else to_labeled
        if outliers >= len(nearest):
            return 0.0
        return float(np.partition(nearest, len(nearest) - 1 - outliers)[-1 - outliers])

    start = np.asarray(start, dtype=np.int64)
    best = RobustKCenter(start, radius_of(start), radius_of(start))
    upper, lower = best.radius, best.radius / 2
    while len(best.attempts) < max_solves and upper - lower > tolerance * best.start_radius:
        delta = (lower + upper) / 2
        began = time.perf_counter()
        picks, outcome = _solve(dist, to_labeled, budget, delta, outliers, time_limit,
                                node_limit)
        best.attempts.append(Attempt(delta, outcome, time.perf_counter() - began))
        if picks is None:
            lower = delta
        else:
            best.picks, best.radius = picks, radius_of(picks)
            upper = best.radius
    return best


def _solve(dist: np.ndarray, to_labeled: np.ndarray, budget: int, delta: float,
           outliers: int, time_limit: float, node_limit: int | None = None
           ) -> tuple[np.ndarray | None, str]:
    """Solve the feasibility MIP at radius ``delta``: the picked rows, or None, and the outcome."""
    cover = sparse.csr_matrix(dist[np.flatnonzero(to_labeled > delta)] <= delta,
                              dtype=np.float64)
    options = {"time_limit": time_limit, **({"node_limit": node_limit} if node_limit else {})}
    return solve_cover(cover, budget, outliers, options, keep_incumbent=True,
                       limit="node or time limit")


def solve_cover(cover: sparse.csr_matrix, budget: int, outliers: int, options: dict,
                *, keep_incumbent: bool, limit: str) -> tuple[np.ndarray | None, str]:
    """The feasibility MIP over ``cover`` (rows: the points still to cover; columns: the
    candidate centres; 1 where a candidate covers a point): which ``budget`` columns, or None,
    and the outcome. A solve stopped by a limit (outcome ``limit``) still returns the solution
    HiGHS had found when ``keep_incumbent``."""
    m, n = cover.shape
    matrix = sparse.vstack([
        sparse.hstack([cover, sparse.identity(m)]),
        sparse.hstack([np.ones((1, n)), sparse.csr_matrix((1, m))]),
        sparse.hstack([sparse.csr_matrix((1, n)), np.ones((1, m))]),
    ]).tocsr()
    lower = np.concatenate([np.ones(m), [budget, 0]])
    upper = np.concatenate([np.full(m, np.inf), [budget, outliers]])
    result = milp(np.zeros(n + m), integrality=np.ones(n + m), bounds=Bounds(0, 1),
                  constraints=LinearConstraint(matrix, lower, upper),
                  options={**options, "disp": False})
    if result.x is not None and (keep_incumbent or result.status == 0):
        picks = np.flatnonzero(result.x[:n] > 0.5)
        if len(picks) == budget:
            return picks, "feasible"
        return None, f"failed: {len(picks)} centres instead of {budget}"
    if result.status == 2:
        return None, "infeasible"
    if result.status == 1:
        return None, limit
    return None, f"failed: {result.message}"
