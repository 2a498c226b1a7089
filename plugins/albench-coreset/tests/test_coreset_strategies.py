"""The registered core-set strategies: conformance and behaviour on real query contexts."""

import warnings

import numpy as np
import pytest

from albench import Dataset
from albench.testing import (
    check_strategy,
    get_plugins,
    parametrize_with_checks,
    strategy_checks,
    toy_context,
)


def _factory(name):
    return get_plugins().get("strategies", name).factory


def two_clusters(per_cluster=20, dim=4, seed=0):
    """Cluster A around -6, cluster B around +6 (class = cluster); A's points come first."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], per_cluster)
    x = (np.where(y[:, None] == 0, -6.0, 6.0) + rng.normal(size=(len(y), dim)))
    x = x.astype(np.float32)
    return Dataset("two-clusters", x, y, x, y, num_classes=2)


@parametrize_with_checks([check for name in ["coreset", "coreset-mip"]
                          for check in strategy_checks(_factory(name), name=name)])
def test_conformance(check):
    check()


def test_mip_conformance_on_a_subsampled_pool():
    check_strategy(_factory("coreset-mip"), name="coreset-mip", max_points=30)


@pytest.mark.parametrize("name", ["coreset", "coreset-mip"])
def test_first_query_comes_from_the_other_cluster(name):
    dataset = two_clusters()
    context = toy_context(dataset, labeled_idx=[0])
    strategy = _factory(name)()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the small MIP must not time out
        first = strategy.select(context, 1)
    assert dataset.y_pool[first].tolist() == [1]


def test_two_picks_cover_both_clusters_from_an_empty_labeled_set():
    dataset = two_clusters()
    picks = _factory("coreset")().select(toy_context(dataset, labeled_idx=[]), 2)
    assert sorted(dataset.y_pool[picks].tolist()) == [0, 1]


def test_mip_does_no_worse_than_greedy():
    context = toy_context(n_labeled=5)
    strategy = _factory("coreset-mip")(max_solves=4)
    strategy.select(context, 6)
    result = strategy.last_result
    assert result.radius <= result.start_radius + 1e-6
    assert len(result.attempts) <= 4


def test_mip_warns_when_the_solver_gives_up():
    strategy = _factory("coreset-mip")(time_limit=1e-4, max_solves=1)
    context = toy_context(n_labeled=0, labeled_idx=[])
    with pytest.warns(RuntimeWarning, match="greedy"):
        strategy.select(context, 10)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="outliers"):
        _factory("coreset-mip")(outliers=-1)
    with pytest.raises(TypeError):
        _factory("coreset")(radius=3)
