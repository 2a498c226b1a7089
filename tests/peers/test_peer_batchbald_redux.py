"""albench's BALD and BatchBALD against batchbald-redux 2.0.5 (Kirsch et al.'s reference).

batchbald-redux takes log-probabilities ``(n, passes, classes)``; albench probabilities
``(passes, n, classes)``. Both use natural logarithms and, while the label configurations
of the chosen points number at most ``samples``, enumerate them exactly: there the two
greedy batches must agree index for index.
"""

import numpy as np
import pytest
import torch

pytest.importorskip("albench_bald",
                    reason="a plugin package under plugins/ that this test compares "
                           "is not installed")
from albench_bald.scores import bald, batchbald_select

from albench.scoring import top_k

redux = pytest.importorskip(
    "batchbald_redux.batchbald", reason="batchbald-redux not installed: the `peers` extra "
                                        "(CONTRIBUTING.md)")

TOLERANCE = 1e-10
"""Absolute tolerance on mutual informations of at most a few nats (both in float64;
batchbald-redux goes through log-sum-exp)."""


def redux_layout(mc_probs: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.log(mc_probs.transpose(1, 0, 2)).copy())


def test_bald_scores_and_top_k_match(mc_probs):
    batch = redux.get_bald_batch(redux_layout(mc_probs), 50)
    ours = bald(mc_probs)
    np.testing.assert_allclose(ours[batch.indices], batch.scores, rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(top_k(ours, np.arange(len(ours)), 50), batch.indices)


@pytest.mark.parametrize(("classes", "batch_size"), [(3, 5), (10, 3)])
def test_batchbald_exact_batches_match_index_for_index(mc_probs, classes, batch_size):
    """Up to ``classes**(batch_size-1)`` configurations, both enumerate them exactly."""
    probs = mc_probs[:, :150, :classes] / mc_probs[:, :150, :classes].sum(2, keepdims=True)
    samples = classes ** (batch_size - 1)
    batch = redux.get_batchbald_batch(redux_layout(probs), batch_size, samples,
                                      dtype=torch.double)
    ours = batchbald_select(probs, batch_size, samples, np.random.default_rng(0))
    np.testing.assert_array_equal(ours, batch.indices)
    # redux scores each prefix of the batch by its joint mutual information; the first is BALD
    assert batch.scores[0] == pytest.approx(bald(probs).max(), abs=TOLERANCE)
    assert np.all(np.diff(batch.scores) > 0)


def test_batchbald_zero_probabilities(mc_probs):
    """Differs on purpose: batchbald-redux computes ``log p · p``, which is NaN at p = 0, so a
    pool with an impossible class gets NaN scores; albench counts 0·log 0 as 0. Clipping
    the zeros to 1e-300 (the same distribution to float64 precision) makes redux finite,
    and then the two batches agree."""
    probs = mc_probs[:, :150, :3] / mc_probs[:, :150, :3].sum(2, keepdims=True)
    probs[:, ::7, 0] = 0.0
    probs /= probs.sum(2, keepdims=True)
    with np.errstate(divide="ignore"):
        nan_batch = redux.get_batchbald_batch(redux_layout(probs), 4, 27, dtype=torch.double)
    assert np.isnan(nan_batch.scores).any()
    ours = batchbald_select(probs, 4, 27, np.random.default_rng(0))
    clipped = redux.get_batchbald_batch(redux_layout(np.maximum(probs, 1e-300)), 4, 27,
                                        dtype=torch.double)
    np.testing.assert_array_equal(ours, clipped.indices)
    assert np.isfinite(bald(probs)).all()
