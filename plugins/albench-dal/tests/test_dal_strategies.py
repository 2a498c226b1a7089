"""DAL: conformance, the sub-batch schedule, sampling, and behaviour on two clusters."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from albench_dal.networks import (
    DiscriminatorConfig,
    autoencoder_features,
    train_discriminator,
    unlabeled_probability,
)
from albench_dal.strategies import sub_batch_sizes

from albench import Dataset
from albench.scoring import gumbel_top_k
from albench.testing import (
    check_strategy,
    get_plugins,
    parametrize_with_checks,
    strategy_checks,
    toy_context,
    toy_dataset,
)

NAMES = ["dal", "dal-raw", "dal-ae", "dal-stochastic"]
FAST = {"max_epochs": 15, "sub_batches": 3, "hidden": 32}
"""A cheap recipe for the contract checks: the contract does not depend on epochs or width."""


def _factory(name):
    return get_plugins().get("strategies", name).factory


def two_clusters(per_cluster=20, dim=4, seed=0):
    """Cluster A around -6, cluster B around +6 (class = cluster); A's points come first."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], per_cluster)
    x = (np.where(y[:, None] == 0, -6.0, 6.0) + rng.normal(size=(len(y), dim)))
    return Dataset("two-clusters", x.astype(np.float32), y, x.astype(np.float32), y, 2)


@parametrize_with_checks([check for name in NAMES
                          for check in strategy_checks(_factory(name), name=name, **FAST)])
def test_conformance(check):
    check()


def test_conformance_on_images():
    check_strategy(_factory("dal-ae"), name="dal-ae", images=True, **FAST)


@pytest.mark.parametrize("budget", [1, 3, 10, 19, 20, 23])
def test_sub_batches_sum_to_any_budget(budget):
    sizes = sub_batch_sizes(budget, 10)
    assert sum(sizes) == budget
    assert len(sizes) == min(budget, 10) and min(sizes) >= 1
    assert max(sizes) - min(sizes) <= 1
    assert sub_batch_sizes(0, 10) == []


@pytest.mark.parametrize("budget", [1, 3])
def test_budgets_below_the_number_of_sub_batches(budget):
    context = toy_context(n_labeled=6)
    strategy = _factory("dal")(**{**FAST, "sub_batches": 10})
    picks = strategy.select(context, budget)
    assert len(set(picks.tolist())) == budget
    assert not np.isin(picks, context.labeled_idx).any()


@pytest.mark.parametrize("name", NAMES)
def test_queries_come_from_the_other_cluster_first(name):
    dataset = two_clusters()
    context = toy_context(dataset, labeled_idx=[0])
    first = _factory(name)(max_epochs=60).select(context, 1)
    assert dataset.y_pool[first].tolist() == [1]
    top_five = _factory(name)(max_epochs=60, sub_batches=1).select(context, 5)
    assert dataset.y_pool[top_five].tolist() == [1] * 5


def test_discriminator_separates_labeled_from_unlabeled():
    generator = torch.Generator().manual_seed(0)
    labeled = torch.randn(20, 8, generator=generator) - 3
    unlabeled = torch.randn(200, 8, generator=generator) + 3
    net = train_discriminator(labeled, unlabeled, DiscriminatorConfig(hidden=32), generator)
    p_labeled = unlabeled_probability(net, labeled)
    p_unlabeled = unlabeled_probability(net, unlabeled)
    assert p_unlabeled.min() > p_labeled.max()


def test_gumbel_sampling_follows_exp_of_the_log_weights():
    rng = np.random.default_rng(0)
    firsts = [gumbel_top_k(np.array([0.0, 1.0]), np.array([7, 9]), 1, rng)[0]
              for _ in range(4000)]
    assert np.mean(np.array(firsts) == 9) == pytest.approx(np.e / (1 + np.e), abs=0.03)
    both = gumbel_top_k(np.zeros(5), np.arange(5), 5, rng)
    assert sorted(both.tolist()) == list(range(5))


def test_autoencoder_is_seeded_by_its_generator_and_cached_per_pool():
    x = torch.randn(50, 12, generator=torch.Generator().manual_seed(1))
    first = autoencoder_features(x, torch.Generator().manual_seed(3), code=4, epochs=2)
    again = autoencoder_features(x, torch.Generator().manual_seed(3), code=4, epochs=2)
    assert first.shape == (50, 4) and torch.equal(first, again)
    strategy = _factory("dal-ae")(**FAST)
    context = toy_context(n_labeled=6)
    strategy.select(context, 2)
    codes = strategy._codes[1]
    strategy.select(context, 2)
    assert strategy._codes[1] is codes


@pytest.mark.parametrize("name, options", [
    ("dal-ae", FAST), ("dal-ae-study", {"max_epochs": 3, "ae_epochs": 2})])
def test_a_resumed_run_trains_the_autoencoder_the_uninterrupted_one_kept(name, options):
    """A fresh strategy at round 1 (a resumed run, a replayed round) picks what the strategy
    that trained its autoencoder at round 0 picks."""
    dataset = toy_dataset(images=True)

    def round_one():  # round 1 of the run whose first query was round_zero's
        return replace(toy_context(dataset, n_labeled=9, seed=5), round=1,
                       _run_start=np.random.default_rng(0))

    round_zero = toy_context(dataset, n_labeled=6, seed=0)
    uninterrupted = _factory(name)(**options)
    uninterrupted.select(round_zero, 3)
    resumed = _factory(name)(**options)
    assert np.array_equal(uninterrupted.select(round_one(), 3), resumed.select(round_one(), 3))
    assert torch.equal(uninterrupted._codes[1], resumed._codes[1])


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="temperature"):
        _factory("dal-stochastic")(temperature=0)
    with pytest.raises(ValueError, match="sub_batches"):
        _factory("dal")(sub_batches=0)
    with pytest.raises(ValueError, match="stop_accuracy"):
        _factory("dal")(stop_accuracy=1.5)
    with pytest.raises(TypeError):
        _factory("dal-raw")(representation="embedding")
