"""Greedy k-center and the robust k-center MIP against brute force on small inputs."""

from itertools import combinations

import numpy as np
import pytest
import torch
from albench_coreset.kcenter import greedy_k_center, min_sq_distances
from albench_coreset.mip import robust_k_center


def _points(n, d=5, seed=0):
    return torch.tensor(np.random.default_rng(seed).normal(size=(n, d)), dtype=torch.float32)


def _naive_greedy(pool, centres, budget, first=None):
    """The textbook algorithm on a full distance matrix."""
    dist = torch.cdist(pool, torch.cat([centres, pool])).numpy()
    chosen = list(range(len(centres)))
    picks = []
    for _ in range(budget):
        if not chosen:
            pick = first
        else:
            pick = int(np.argmax(dist[:, chosen].min(axis=1)))
        picks.append(pick)
        chosen.append(len(centres) + pick)
    return np.array(picks), float(dist[:, chosen].min(axis=1).max())


@pytest.mark.parametrize("chunk", [1, 7, 2**24])
def test_min_sq_distances_matches_cdist_for_any_chunk_size(chunk):
    points, centres = _points(23), _points(9, seed=1)
    expected = torch.cdist(points, centres).square().min(dim=1).values
    got = min_sq_distances(points, centres, chunk_elements=chunk)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_min_sq_distances_without_centres_is_infinite():
    assert torch.isinf(min_sq_distances(_points(4), _points(0))).all()


@pytest.mark.parametrize("n_centres,first", [(3, None), (0, 5)])
def test_greedy_matches_the_textbook_algorithm(n_centres, first):
    pool, centres = _points(40), _points(n_centres, seed=2)
    picks, radius = greedy_k_center(pool, centres, 8, first=first, chunk_elements=16)
    expected, expected_radius = _naive_greedy(pool, centres, 8, first)
    assert picks.tolist() == expected.tolist()
    assert radius == pytest.approx(expected_radius, rel=1e-4)
    if first is not None:
        assert picks[0] == first


def test_greedy_can_take_the_whole_pool_and_refuses_more():
    pool = _points(6)
    picks, radius = greedy_k_center(pool, _points(2, seed=3), 6)
    assert sorted(picks.tolist()) == list(range(6))
    assert radius == 0.0
    with pytest.raises(ValueError, match="exceeds the pool"):
        greedy_k_center(pool, _points(2), 7)
    with pytest.raises(ValueError, match="first"):
        greedy_k_center(pool, _points(0), 2)


def _radius(points, centres, picks, outliers=0):
    nearest = torch.cdist(points, torch.cat([centres, points[list(picks)]])).min(dim=1).values
    return float(torch.sort(nearest, descending=True).values[outliers])


def test_mip_reaches_the_optimal_radius_within_tolerance():
    points, centres = _points(14, d=2, seed=4), _points(1, d=2, seed=5)
    start, greedy_radius = greedy_k_center(points, centres, 3)
    result = robust_k_center(points, centres, 3, start, outliers=0, time_limit=20,
                             max_solves=20, tolerance=1e-3)
    optimum = min(_radius(points, centres, c) for c in combinations(range(14), 3))
    assert result.radius <= greedy_radius + 1e-5
    assert result.radius <= optimum + 1e-3 * greedy_radius + 1e-5
    assert result.radius == pytest.approx(_radius(points, centres, result.picks), rel=1e-4)
    assert len(set(result.picks.tolist())) == 3


def test_mip_leaves_the_allowed_outlier_uncovered():
    line = torch.tensor([[1.0], [2.0], [3.0], [4.0], [100.0]])
    labeled = torch.tensor([[0.0]])
    start, _ = greedy_k_center(line, labeled, 1)
    assert start.tolist() == [4]  # greedy chases the outlier
    result = robust_k_center(line, labeled, 1, start, outliers=1, time_limit=20,
                             max_solves=20, tolerance=1e-3)
    assert result.picks.tolist() == [2]  # the centre at 3 covers 1..4 within 1
    assert result.radius == pytest.approx(1.0)


def test_mip_that_times_out_keeps_the_start():
    points = _points(300, d=8)
    start, radius = greedy_k_center(points, points[:0], 10, first=0)
    result = robust_k_center(points, points[:0], 10, start, outliers=0, time_limit=1e-3,
                             max_solves=2)
    assert result.gave_up and not result.improved
    assert result.picks.tolist() == start.tolist()
    assert result.radius == pytest.approx(radius)
