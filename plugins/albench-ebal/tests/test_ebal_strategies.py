"""The deep-ensemble strategies: conformance, members, parallel training."""

from dataclasses import replace

import numpy as np
import pytest
from albench_ebal.scores import ensemble_entropy

from albench.testing import (
    get_plugins,
    parametrize_with_checks,
    strategy_checks,
    toy_context,
    toy_dataset,
)

NAMES = ["ensemble-variation-ratios", "ensemble-entropy", "ensemble-bald", "qbc"]


def factory(name):
    return get_plugins().get("strategies", name).factory


@parametrize_with_checks([check for name in NAMES
                          for check in strategy_checks(factory(name), name=name, members=2)])
def test_conformance(check):
    check()


@pytest.fixture(scope="module")
def context():
    return toy_context(toy_dataset(n_pool=60), n_labeled=9)


def test_members_differ_by_seed_and_repeat_for_a_seed(context):
    first, second, again = context.fit_models([1, 2, 1])
    probs = [context.predict_proba(context.unlabeled_idx, model=m) for m in (first, second, again)]
    np.testing.assert_array_equal(probs[0], probs[2])
    assert not np.allclose(probs[0], probs[1])


def test_selection_ranks_by_the_ensemble_score_with_the_round_model_as_member_zero(context):
    chosen = factory("ensemble-entropy")(members=3).select(
        replace(context, rng=np.random.default_rng(4)), 5)
    rng = np.random.default_rng(4)
    members = context.fit_models([int(rng.integers(2**31)) for _ in range(2)])
    probs = np.stack([context.predict_proba(context.unlabeled_idx, model=m)
                      for m in (context.model, *members)])
    scores = ensemble_entropy(probs)
    picked = np.isin(context.unlabeled_idx, chosen)
    assert scores[picked].min() >= scores[~picked].max()


@pytest.mark.slow  # starts two worker processes that import torch
def test_parallel_training_gives_the_sequential_members(context):
    seeds = [7, 8]
    sequential = context.fit_models(seeds)
    parallel = context.fit_models(seeds, parallel=2)
    for a, b in zip(sequential, parallel):
        np.testing.assert_allclose(context.predict_proba(context.unlabeled_idx, model=a),
                                   context.predict_proba(context.unlabeled_idx, model=b),
                                   atol=1e-5)


def test_invalid_options_are_refused():
    with pytest.raises(ValueError, match="qbc: an ensemble needs at least 2 members"):
        factory("qbc")(members=1)
    with pytest.raises(ValueError, match="parallel must be at least 1"):
        factory("ensemble-bald")(parallel=0)
    with pytest.raises(TypeError):
        factory("ensemble-bald")(passes=3)
