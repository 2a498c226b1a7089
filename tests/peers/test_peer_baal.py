"""albench's uncertainty and MC-dropout scores against baal's heuristics (baal 2.1.0).

baal takes predictions as ``(n, classes, passes)``; albench as ``(passes, n, classes)``.
Both use natural logarithms. baal ranks with ``np.argsort`` (reversed where higher is
more uncertain); albench's ``top_k`` ranks by score and breaks ties by lower index.
"""

import numpy as np
import pytest

pytest.importorskip("albench_bald",
                    reason="a plugin package under plugins/ that this test compares "
                           "is not installed")
from albench_bald.scores import bald, bayesian_entropy

from albench.builtin.strategies import least_confidence, smallest_margin
from albench.scoring import entropy, top_k

heuristics = pytest.importorskip(
    "baal.active.heuristics", reason="baal not installed: the `peers` extra (CONTRIBUTING.md)")

TOLERANCE = 1e-12
"""Absolute tolerance on scores of at most a few nats: both compute in float64."""


def baal_layout(mc_probs: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(mc_probs.transpose(1, 2, 0))


def albench_ranking(scores: np.ndarray) -> np.ndarray:
    return top_k(scores, np.arange(len(scores)), len(scores))


def test_entropy_scores_and_ranking_match(probs):
    ranks, baal_scores = heuristics.Entropy().get_ranks(probs)
    np.testing.assert_allclose(entropy(probs), baal_scores, rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(albench_ranking(entropy(probs)), ranks)


def test_entropy_of_the_mean_mc_prediction_matches(mc_probs):
    """baal's Entropy averages the passes first: albench's bayesian_entropy."""
    baal_scores = heuristics.Entropy().get_uncertainties(baal_layout(mc_probs))
    np.testing.assert_allclose(bayesian_entropy(mc_probs), baal_scores, rtol=0, atol=TOLERANCE)


def test_least_confidence_is_one_minus_baal_certainty(probs):
    """baal's Certainty scores the top probability and ranks it ascending."""
    ranks, certainty = heuristics.Certainty().get_ranks(probs)
    np.testing.assert_allclose(least_confidence(probs), 1.0 - certainty, rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(albench_ranking(least_confidence(probs)), ranks)


def test_margin_is_minus_baal_margin(probs):
    """baal's Margin scores ``p1 - p2`` and ranks it ascending; albench negates it."""
    ranks, margin = heuristics.Margin().get_ranks(probs)
    np.testing.assert_allclose(smallest_margin(probs), -margin, rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(albench_ranking(smallest_margin(probs)), ranks)


def test_bald_scores_and_ranking_match(mc_probs):
    ranks, baal_scores = heuristics.BALD().get_ranks(baal_layout(mc_probs))
    np.testing.assert_allclose(bald(mc_probs), baal_scores, rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(albench_ranking(bald(mc_probs)), ranks)


def test_bald_with_zero_probabilities_and_agreeing_passes(mc_probs):
    """Differs on purpose: albench clips BALD at 0, where baal returns the float64 rounding
    of H[mean p] - mean H[p] when every pass agrees (mathematically 0, possibly below).
    Exact zeros in the probabilities are fine in both (0·log 0 = 0)."""
    probs = mc_probs[:, :50].copy()
    probs[:, :20] = probs[:1, :20]  # every pass agrees on the first 20 examples
    probs[:, 20:30, 0] = 0.0
    probs[:, 20:30] /= probs[:, 20:30].sum(axis=2, keepdims=True)
    baal_scores = heuristics.BALD().get_uncertainties(baal_layout(probs))
    ours = bald(probs)
    assert np.isfinite(ours).all() and np.isfinite(baal_scores).all()
    assert (baal_scores[:20] < 0).any() and (ours >= 0).all()
    np.testing.assert_allclose(ours[:20], 0.0, atol=TOLERANCE)
    np.testing.assert_allclose(ours, np.maximum(baal_scores, 0.0), rtol=0, atol=TOLERANCE)


def test_ties_albench_takes_the_lowest_indices(probs):
    """Differs on purpose: albench breaks ties by lower index; baal reverses
    ``np.argsort``, whose order among equal scores is not specified. Both take the same
    untied examples and the same number from the tie straddling the cut."""
    tied = probs[:40].copy()
    tied[[3, 11, 17, 29, 35]] = tied[int(np.argmax(entropy(tied)))]  # 5 copies of the top row
    baal_ranks = heuristics.Entropy().get_ranks(tied)[0]
    scores = entropy(tied)
    top = np.flatnonzero(scores == scores.max())
    assert len(top) == 6
    picks = top_k(scores, np.arange(len(scores)), 4)
    np.testing.assert_array_equal(picks, top[:4])
    assert set(baal_ranks[:4]) <= set(top)
    assert set(baal_ranks[:6]) == set(top)
