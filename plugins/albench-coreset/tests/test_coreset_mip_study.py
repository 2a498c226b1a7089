"""coreset-mip-study: the study's robust k-center search, pinned against brute force."""

from itertools import combinations
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from albench_coreset import mip, mip_study, strategies
from albench_coreset.mip_study import neighbourhoods, study_outliers, study_search

from albench import Dataset
from albench.testing import check_strategy, get_plugins, toy_context


def _factory():
    return get_plugins().get("strategies", "coreset-mip-study").factory


def cross(a, b):
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))


def dense(points, cap=None):
    d = cross(points, points)
    return d if cap is None else np.minimum(d, cap)


def feasible(d, labeled, budget, outliers, delta):
    """Brute force: some ``budget`` unlabelled centres leave at most ``outliers`` uncovered."""
    for extra in combinations(np.flatnonzero(~labeled), budget):
        centres = np.flatnonzero(labeled).tolist() + list(extra)
        if (d[:, centres].min(1) > delta).sum() <= outliers:
            return True
    return False


def reference_search(d, labeled, budget, outliers, start_radius, eps):
    """query_methods.py L703-744 with a brute-force oracle: the (delta, feasible) sequence."""
    upper, lower, tried = start_radius, start_radius / 2, []
    while upper - lower > eps:
        delta = (upper + lower) / 2
        ok = feasible(d, labeled, budget, outliers, delta)
        tried.append((delta, ok))
        if ok:
            upper = min(delta, d[d <= delta].max())
        else:
            at_least = d[d >= delta]
            lower = max(delta, at_least.min() if at_least.size else 10000)
    return tried, upper


@pytest.mark.parametrize("pool_size", [0, 1797, 9999, 10000, 50000, 60000, 129999])
def test_outlier_budget_is_one_per_ten_thousand(pool_size):
    assert study_outliers(pool_size) == pool_size // 10000


@pytest.mark.parametrize("seed, outliers", [(0, 0), (1, 1), (2, 2)])
def test_binary_search_follows_the_study_and_returns_a_feasible_batch(seed, outliers):
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(11, 2)).astype(np.float32)
    labeled = np.zeros(11, dtype=bool)
    labeled[:2] = True
    d = dense(points.astype(np.float64))
    budget, greedy = 2, np.array([0, 1])
    start = float(d.max())
    search = study_search(torch.from_numpy(points), labeled, budget, greedy, start, outliers,
                          eps=0.01)
    tried, upper = reference_search(d, labeled, budget, outliers, start, 0.01)
    assert len(search.solves) == len(tried) >= 3
    for solve, (delta, ok) in zip(search.solves, tried, strict=True):
        assert solve.delta == pytest.approx(delta, rel=1e-5)
        assert solve.outcome == ("feasible" if ok else "infeasible")
    assert search.upper == pytest.approx(upper, rel=1e-5)
    centres = np.flatnonzero(labeled).tolist() + np.flatnonzero(~labeled)[search.picks].tolist()
    assert len(search.picks) == budget
    assert (d[:, centres].min(1) > search.upper * (1 + 1e-5)).sum() <= outliers


@pytest.mark.parametrize("delta, cap", [(0.8, None), (1.5, None), (1.0, 1.0), (0.5, 0.7)])
def test_neighbourhoods_match_dense_distances(delta, cap):
    rng = np.random.default_rng(4)
    points = rng.normal(size=(13, 3)).astype(np.float32)
    labeled = np.zeros(13, dtype=bool)
    labeled[[1, 5]] = True
    graph = neighbourhoods(torch.from_numpy(points), labeled, delta, cap, block_elements=20)
    d = dense(points.astype(np.float64), cap)
    rows = np.flatnonzero(~labeled & ~(d[:, labeled] <= delta).any(1))
    assert graph.rows.tolist() == rows.tolist()
    expected = d[np.ix_(rows, np.flatnonzero(~labeled))] <= delta
    assert np.array_equal(graph.cover.toarray() > 0, expected)
    assert graph.below == pytest.approx(d[d <= delta].max(), rel=1e-5)
    at_least = d[d >= delta]
    assert graph.above == pytest.approx(at_least.min() if at_least.size else 10000, rel=1e-5)


def study_greedy(labeled, unlabeled, amount):
    """query_methods.py L487-514: the greedy picks and the study's starting radius."""
    min_dist = cross(labeled, unlabeled).min(0)
    picks = [int(np.argmax(min_dist))]
    for _ in range(amount - 1):
        min_dist = np.minimum(min_dist, cross(unlabeled[picks[-1]][None], unlabeled)[0])
        picks.append(int(np.argmax(min_dist)))
    return picks, float(np.max(min_dist))


def test_strategy_starts_from_the_study_greedy_radius_and_outlier_budget(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20000, 3)).astype(np.float32)
    y = rng.integers(0, 2, 20000)
    context = toy_context(Dataset("big", x, y, x[:50], y[:50], 2), labeled_idx=[3, 7, 11])
    seen = {}

    def record(points, labeled, budget, greedy, radius, outliers, *rest):
        seen.update(greedy=greedy, radius=radius, outliers=outliers)
        return mip_study.StudySearch(np.asarray(greedy), radius, radius / 2)

    monkeypatch.setattr(strategies, "study_search", record)
    _factory()().select(context, 4)
    embedded = context.embeddings(np.arange(20000)).astype(np.float64)
    picks, radius = study_greedy(embedded[context.labeled_idx],
                                 embedded[context.unlabeled_idx], 4)
    assert seen["outliers"] == 2
    assert seen["greedy"].tolist() == picks  # columns = unlabelled in pool order
    assert seen["radius"] == pytest.approx(radius, rel=1e-4)


def test_a_solve_stopped_at_its_time_limit_is_noted_and_counted_infeasible(monkeypatch):
    # HiGHS may hold a solution when it stops; the study counts the solve infeasible anyway
    stopped = SimpleNamespace(status=1, x=np.ones(1), message="Time limit reached")
    monkeypatch.setattr(mip, "milp", lambda *args, **kwargs: stopped)
    context = toy_context(n_labeled=6)
    strategy = _factory()(time_limit=5)
    greedy = strategies.CoreSet().select(toy_context(n_labeled=6), 4)
    picks = strategy.select(context, 4)
    search = strategy.last_search
    assert search.solves and all(s.outcome == "time limit" for s in search.solves)
    assert search.lower >= search.solves[-1].delta  # each limit raised the lower bound
    assert sorted(picks.tolist()) == sorted(greedy.tolist())  # nothing better was found
    assert len(context.notes) == len(search.solves)
    assert all("'time limit'" in note and "5 s" in note for note in context.notes)


def test_a_real_solve_improves_on_or_keeps_the_greedy_radius():
    context = toy_context(n_labeled=6)
    strategy = _factory()()
    picks = strategy.select(context, 5)
    search = strategy.last_search
    assert any(s.outcome == "feasible" for s in search.solves)
    assert not context.notes
    embedded = context.embeddings(np.arange(context.dataset.pool_size)).astype(np.float64)
    centres = np.concatenate([context.labeled_idx, picks])
    radius = dense(embedded)[:, centres].min(1).max()  # outliers: 0 on this pool
    assert radius <= search.upper * (1 + 1e-5) < search.solves[0].delta * 2


def test_conformance_and_bad_options():
    check_strategy(_factory(), name="coreset-mip-study")
    with pytest.raises(ValueError, match="outliers"):
        _factory()(outliers=-1)
    with pytest.raises(ValueError, match="time_limit"):
        _factory()(time_limit=0)
