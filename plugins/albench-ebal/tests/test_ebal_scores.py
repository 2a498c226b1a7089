"""The pure ensemble acquisition functions against hand-computed values."""

import math

import numpy as np
import pytest
from albench_ebal.scores import (
    ensemble_bald,
    ensemble_entropy,
    ensemble_variation_ratios,
    vote_counts,
    vote_entropy,
)


def H(*p):
    return -sum(x * math.log(x) for x in p if x > 0)


# Four members, two points, three classes.
PROBS = np.array([
    [[0.6, 0.3, 0.1], [1.0, 0.0, 0.0]],
    [[0.2, 0.7, 0.1], [1.0, 0.0, 0.0]],
    [[0.5, 0.1, 0.4], [0.9, 0.1, 0.0]],
    [[0.1, 0.1, 0.8], [0.8, 0.0, 0.2]],
])


def test_vote_counts():
    np.testing.assert_array_equal(vote_counts(PROBS), [[2, 1, 1], [4, 0, 0]])


def test_hand_computed_scores():
    np.testing.assert_allclose(ensemble_variation_ratios(PROBS), [0.5, 0.0])
    np.testing.assert_allclose(vote_entropy(PROBS), [H(.5, .25, .25), 0.0])
    mean = [(0.35, 0.3, 0.35), (0.925, 0.025, 0.05)]
    np.testing.assert_allclose(ensemble_entropy(PROBS), [H(*mean[0]), H(*mean[1])])
    expected = [(H(.6, .3, .1) + H(.2, .7, .1) + H(.5, .1, .4) + H(.1, .1, .8)) / 4,
                (0 + 0 + H(.9, .1) + H(.8, .2)) / 4]
    np.testing.assert_allclose(ensemble_bald(PROBS),
                               [H(*mean[0]) - expected[0], H(*mean[1]) - expected[1]])


def test_scores_are_zero_without_disagreement_and_never_nan():
    one = np.zeros((1, 3, 4))
    one[0, :, 1] = 1.0
    one[0, 2] = [0.25, 0.25, 0.25, 0.25]
    probs = np.repeat(one, 3, axis=0)
    for score in (ensemble_variation_ratios, vote_entropy, ensemble_bald):
        values = score(probs)
        assert not np.isnan(values).any()
        np.testing.assert_allclose(values, 0.0, atol=1e-12, err_msg=score.__name__)
    assert ensemble_entropy(probs)[2] == pytest.approx(math.log(4))
