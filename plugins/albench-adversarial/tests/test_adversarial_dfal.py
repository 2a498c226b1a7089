"""DFAL: conformance, DeepFool's distances on models where they are known, clipping, rounds."""

import numpy as np
import pytest
import torch
from albench_adversarial.dfal import Dfal, deepfool, input_bounds, rival_classes

from albench.testing import (
    check_strategy,
    logistic_context,
    parametrize_with_checks,
    strategy_checks,
    toy_context,
    toy_dataset,
)


@pytest.fixture(scope="module")
def trained():
    """A small MLP trained on three separated blobs."""
    return toy_context()


@parametrize_with_checks(strategy_checks(Dfal, name="dfal"))
def test_dfal_conforms(check):
    check()


def test_dfal_conforms_on_clipped_images():
    check_strategy(Dfal, name="dfal", images=True)


def test_distances_on_a_linear_model_are_the_overshot_distances_to_the_boundary():
    # Boundary 3 x0 + 4 x1 = 1 (||w|| = 5 for the logit gap, halved per class).
    rng = np.random.default_rng(0)
    x = rng.normal(scale=3, size=(40, 2))
    context = logistic_context(x, weight=[[1.5, 2.0], [-1.5, -2.0]], bias=[-0.5, 0.5])
    distances, crossed = Dfal().perturbations(context, context.unlabeled_idx, len(x))
    exact = np.abs(x @ [3.0, 4.0] - 1.0) / 5.0
    assert crossed.all()
    np.testing.assert_allclose(distances, 1.02 * exact, rtol=1e-4, atol=1e-5)
    picked = Dfal().select(context, 5)
    assert set(picked) == set(np.argsort(exact)[:5])  # the nearest to the boundary


def test_distances_shrink_towards_the_boundary_of_a_trained_net(trained):
    context = trained
    distances, crossed = Dfal().perturbations(context, context.unlabeled_idx, 10)
    probs = context.predict_proba(context.unlabeled_idx)
    top2 = np.sort(probs, axis=1)[:, -2:]
    margin = np.log(top2[:, 1]) - np.log(top2[:, 0])  # logit gap to the runner-up
    assert crossed.all()
    # A net trained on separated blobs is smooth: distance grows with the logit gap.
    rank_corr = np.corrcoef(np.argsort(np.argsort(margin)),
                            np.argsort(np.argsort(distances)))[0, 1]
    assert rank_corr > 0.7


def test_perturbed_inputs_stay_in_the_data_range():
    dataset = toy_dataset(images=True)
    context = toy_context(dataset)
    x = context.pool_inputs(context.unlabeled_idx)
    bounds = input_bounds(dataset)
    low = dataset.inputs(np.zeros((1, 1, 8, 8), dtype=np.uint8))
    assert torch.allclose(bounds[0], low) and (bounds[1] > bounds[0]).all()
    result = deepfool(context.model, x, overshoot=5.0, bounds=bounds)
    assert (result.adversarial >= bounds[0] - 1e-6).all()
    assert (result.adversarial <= bounds[1] + 1e-6).all()
    unclipped = deepfool(context.model, x, overshoot=5.0)
    assert (unclipped.adversarial < bounds[0] - 1e-3).any() or \
        (unclipped.adversarial > bounds[1] + 1e-3).any()


def test_continuing_a_run_equals_one_longer_run(trained):
    context = trained
    x = context.pool_inputs(context.unlabeled_idx)
    whole = deepfool(context.model, x, max_iter=2)
    first = deepfool(context.model, x, max_iter=1)
    left = ~first.converged
    assert left.any() and not left.all()
    rest = deepfool(context.model, x[left], max_iter=1, labels=first.labels[left],
                    residual=first.residual[left])
    distances = first.distances.clone()
    distances[left] = rest.distances
    torch.testing.assert_close(distances, whole.distances)
    assert torch.equal(whole.converged[left], rest.converged)


def test_chunking_does_not_change_the_perturbations(trained):
    idx = trained.unlabeled_idx
    whole, crossed = Dfal().perturbations(trained, idx, len(idx))
    chunked, crossed_chunked = Dfal(chunk_size=7).perturbations(trained, idx, len(idx))
    np.testing.assert_allclose(chunked, whole, rtol=1e-5)
    assert (crossed == crossed_chunked).all()


def test_rival_classes_are_every_other_class_or_the_top_logits():
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.0], [5.0, 4.0, 6.0, 0.0]])
    labels = torch.tensor([1, 2])
    assert rival_classes(logits, labels).tolist() == [[2, 3, 0], [3, 0, 1]]
    assert rival_classes(logits, labels, candidates=3).tolist() == [[3, 2], [0, 1]]
    assert rival_classes(logits, labels, candidates=4).tolist() == [[2, 3, 0], [3, 0, 1]]


def test_candidates_trade_rival_classes_for_backward_passes(trained):
    idx = trained.unlabeled_idx
    every, crossed = Dfal().perturbations(trained, idx, len(idx))
    same, _ = Dfal(candidates=3).perturbations(trained, idx, len(idx))  # 3 classes: all
    np.testing.assert_array_equal(same, every)
    nearest, nearest_crossed = Dfal(candidates=2).perturbations(trained, idx, len(idx))
    assert nearest_crossed.all() and crossed.all()
    assert not np.allclose(nearest, every)  # one rival per example changes some steps


def test_rounds_double_the_iterations_until_enough_examples_cross(trained):
    idx = trained.unlabeled_idx
    one, crossed_one = Dfal(max_iter=1, max_rounds=1).perturbations(trained, idx, len(idx))
    assert not crossed_one.all()
    doubled, crossed = Dfal(max_iter=1).perturbations(trained, idx, len(idx))
    longer, _ = Dfal(max_iter=2, max_rounds=1).perturbations(trained, idx, len(idx))
    assert crossed.all()
    np.testing.assert_allclose(doubled, longer, rtol=1e-5)
    enough, _ = Dfal(max_iter=1).perturbations(trained, idx, int(crossed_one.sum()))
    np.testing.assert_array_equal(enough, one)  # enough crossed: no second round


def test_unreachable_examples_come_last_and_rounds_stop():
    # Inputs are confined to [0, 1]^2 and the boundary x0 = 1.5 is out of reach.
    x = np.array([[0.2, 0.5], [0.9, 0.1], [0.5, 0.5], [0.95, 0.9], [0.1, 0.0]])
    context = logistic_context(x, weight=[[-1, 0], [1, 0]], bias=[1.5, -1.5],
                               input_range=(0.0, 1.0))
    distances, crossed = Dfal(max_rounds=3).perturbations(context, context.unlabeled_idx, 5)
    assert not crossed.any()
    picked = Dfal(max_rounds=3).select(context, 5)
    assert sorted(picked.tolist()) == list(range(5))
    # Every attack ends at the clip: the perturbation is the way to the x0 = 1 edge.
    np.testing.assert_allclose(distances, 1.0 - x[:, 0], rtol=1e-5, atol=1e-6)
    assert list(picked) == list(np.argsort(1.0 - x[:, 0], kind="stable"))


@pytest.mark.parametrize("options", [{"max_iter": 0}, {"overshoot": -1}, {"chunk_size": 0},
                                     {"candidates": 1}])
def test_dfal_rejects_bad_options(options):
    with pytest.raises(ValueError, match="dfal"):
        Dfal(**options)


def test_scores_rank_crossed_examples_first_by_distance_as_select_always_did(monkeypatch):
    """``select`` through ``top_k(scores)`` keeps the order it had as a lexsort: crossed
    examples first, each group by perturbation size, ties by lower pool index."""
    rng = np.random.default_rng(0)
    context = toy_context(seed=0)
    n = len(context.unlabeled_idx)
    distances = rng.uniform(0.1, 5, n).astype(np.float32).astype(np.float64)
    distances[:6] = distances[6]  # ties
    crossed = rng.uniform(size=n) < 0.6
    monkeypatch.setattr(Dfal, "perturbations", lambda self, c, cand, needed: (distances, crossed))
    order = np.lexsort((context.unlabeled_idx, distances, ~crossed))
    for budget in (1, 10, n):
        assert np.array_equal(Dfal().select(context, budget), context.unlabeled_idx[order[:budget]])
    scores = Dfal().scores(context)
    assert scores[crossed].min() > scores[~crossed].max()
