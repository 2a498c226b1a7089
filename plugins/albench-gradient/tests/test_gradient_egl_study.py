"""The study's EGL: a closed-form reference of its chunk-mean formula on fixed tiny inputs."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from albench_gradient.egl import expected_gradient_lengths
from albench_gradient.egl_study import StudyEGL, study_egl_scores
from torch import nn

from albench.testing import check_strategy, toy_context


def reference_study_egl(x: np.ndarray, weight: np.ndarray, bias: np.ndarray,
                        chunk: int) -> np.ndarray:
    """The study's EGL for softmax regression, in numpy: for a chunk ``X`` all labelled
    ``i``, the mean cross-entropy's gradient is ``(P - e_i)^T X / m`` for the weights and
    the column mean of ``P - e_i`` for the bias; its squared norm times ``p_i(x)``, summed
    over ``i``, is each example's score."""
    logits = x @ weight.T + bias
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    classes = weight.shape[0]
    scores = np.zeros(len(x))
    for start in range(0, len(x), chunk):
        xs, ps = x[start:start + chunk], probs[start:start + chunk]
        for i in range(classes):
            residual = ps - np.eye(classes)[i]
            g_weight = residual.T @ xs / len(xs)
            g_bias = residual.mean(0)
            norm = (g_weight**2).sum() + (g_bias**2).sum()
            scores[start:start + chunk] += ps[:, i] * norm
    return scores


def _softmax_regression(features: int, classes: int) -> nn.Linear:
    torch.manual_seed(0)
    return nn.Linear(features, classes).double()


def test_chunk_mean_broadcast_matches_the_closed_form():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(250, 4))  # chunks of 100, 100 and 50
    model = _softmax_regression(4, 3)
    ours = study_egl_scores(model, lambda a, b: torch.as_tensor(x[a:b]), len(x), chunk=100)
    expected = reference_study_egl(x, model.weight.detach().numpy(),
                                   model.bias.detach().numpy(), chunk=100)
    np.testing.assert_allclose(ours, expected, rtol=1e-10)
    # one scalar per chunk and label: examples of a chunk differ only through p(x)
    assert not np.allclose(ours, reference_study_egl(x, model.weight.detach().numpy(),
                                                     model.bias.detach().numpy(), chunk=1))


def test_chunks_of_one_are_the_per_example_squared_egl():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(48, 4)).eval()
    x = torch.randn(7, 1, 6, 6)
    ours = study_egl_scores(model, lambda a, b: x[a:b], len(x), chunk=1)
    per_example = expected_gradient_lengths(model, x, squared=True).numpy()
    np.testing.assert_allclose(ours, per_example, rtol=1e-4)


def test_keras_clip_drops_the_gradient_of_labels_below_1e_7():
    model = _softmax_regression(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[20.0, 0.0], [-20.0, 0.0]]))
        model.bias.zero_()
    x = np.array([[1.0, 0.0]])  # p = (1 - 4e-18, 4e-18): label 1 is clipped
    clipped = study_egl_scores(model, lambda a, b: torch.as_tensor(x[a:b]), 1)
    unclipped = study_egl_scores(model, lambda a, b: torch.as_tensor(x[a:b]), 1, clip=0.0)
    assert clipped[0] == 0.0
    assert unclipped[0] > 0.0


@pytest.mark.parametrize("options", [{}, {"chunk": 7}])
def test_egl_study_conforms(options):
    check_strategy(StudyEGL, name="egl-study", **options)


def test_egl_study_conforms_on_a_convnet():
    check_strategy(StudyEGL, name="egl-study", model="lenet", images=True)


def test_chunks_follow_one_shuffle_of_the_pool_per_run():
    context = toy_context()  # its run_rng() is default_rng(0)
    scores = StudyEGL(chunk=7).scores(context)
    pool_order = np.random.default_rng(0).permutation(context.dataset.pool_size)
    shuffled = pool_order[np.isin(pool_order, context.unlabeled_idx)]
    expected = study_egl_scores(context.model, lambda a, b: context.pool_inputs(shuffled[a:b]),
                                len(shuffled), chunk=7)
    np.testing.assert_allclose(scores[np.searchsorted(context.unlabeled_idx, shuffled)],
                               expected, rtol=1e-6)
    in_order = study_egl_scores(context.model, lambda a, b: context.pool_inputs(
        context.unlabeled_idx[a:b]), len(shuffled), chunk=7)
    assert not np.allclose(scores, in_order)
    # a later round of the same run (another rng) chunks in the same order
    later = replace(context, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(StudyEGL(chunk=7).scores(later), scores)


def test_select_is_the_top_of_scores():
    context = toy_context()
    strategy = StudyEGL()
    scores = strategy.scores(replace(context, rng=np.random.default_rng(0)))
    assert scores.shape == context.unlabeled_idx.shape
    picked = strategy.select(replace(context, rng=np.random.default_rng(0)), 5)
    assert set(picked) == set(context.unlabeled_idx[np.argsort(-scores, kind="stable")[:5]])


@pytest.mark.parametrize("options", [{"chunk": 0}, {"clip": 0.7}])
def test_bad_options_are_refused(options):
    with pytest.raises(ValueError, match="egl-study"):
        StudyEGL(**options)
