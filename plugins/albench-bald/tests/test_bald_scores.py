"""The pure MC-dropout acquisition functions against hand-computed values."""

import itertools
import math

import numpy as np
import pytest
from albench_bald.scores import (
    bald,
    batchbald_select,
    bayesian_entropy,
    bayesian_least_confidence,
    expected_entropy,
    variation_ratios,
)


def H(*p):
    return -sum(x * math.log(x) for x in p if x > 0)


# Two passes, three points, two classes: a disagreement, a shared coin toss, a certainty.
PROBS = np.array([
    [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]],
    [[0.0, 1.0], [0.5, 0.5], [0.0, 1.0]],
])


def test_hand_computed_two_class_scores():
    np.testing.assert_allclose(bayesian_least_confidence(PROBS), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(bayesian_entropy(PROBS), [H(.5, .5), H(.5, .5), 0.0])
    np.testing.assert_allclose(expected_entropy(PROBS), [0.0, H(.5, .5), 0.0])
    np.testing.assert_allclose(bald(PROBS), [math.log(2), 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(variation_ratios(PROBS), [0.5, 0.0, 0.0])


def test_hand_computed_three_class_scores():
    probs = np.array([[[0.7, 0.2, 0.1]], [[0.1, 0.2, 0.7]], [[0.4, 0.5, 0.1]]])
    mean = (0.4, 0.3, 0.3)
    assert bayesian_least_confidence(probs)[0] == pytest.approx(0.6)
    assert bayesian_entropy(probs)[0] == pytest.approx(H(*mean))
    expected = (H(.7, .2, .1) + H(.1, .2, .7) + H(.4, .5, .1)) / 3
    assert bald(probs)[0] == pytest.approx(H(*mean) - expected)
    assert variation_ratios(probs)[0] == pytest.approx(2 / 3)  # votes 0, 2, 1


def test_scores_have_no_nan_at_probability_zero():
    probs = np.zeros((4, 3, 5))
    probs[:, :, 2] = 1.0
    for score in (bayesian_least_confidence, bayesian_entropy, bald, variation_ratios):
        assert not np.isnan(score(probs)).any(), score.__name__


def test_bald_and_variation_ratios_are_zero_when_all_passes_agree():
    one = np.random.default_rng(0).dirichlet(np.ones(4), size=6)
    probs = np.repeat(one[None], 7, axis=0)
    np.testing.assert_allclose(bald(probs), 0.0, atol=1e-12)
    np.testing.assert_array_equal(variation_ratios(probs), 0.0)
    assert (bayesian_entropy(probs) > 0).all()


def random_probs(passes=6, n=9, classes=3, seed=0):
    return np.random.default_rng(seed).dirichlet(np.full(classes, 0.5), size=(passes, n))


def test_batchbald_with_batch_one_is_top_bald():
    for seed in range(5):
        probs = random_probs(seed=seed)
        chosen = batchbald_select(probs, 1, 100, np.random.default_rng(0))
        assert chosen.tolist() == [int(np.argmax(bald(probs)))]


def joint_mutual_information(probs, points):
    """Brute force: H[y_points] - sum of expected entropies, over every label configuration."""
    passes, _, classes = probs.shape
    joint = 0.0
    for labels in itertools.product(range(classes), repeat=len(points)):
        p = np.mean([np.prod([probs[t, i, y] for i, y in zip(points, labels)])
                     for t in range(passes)])
        joint -= p * math.log(p) if p > 0 else 0.0
    return joint - sum(expected_entropy(probs)[i] for i in points)


def test_exact_batchbald_is_greedy_joint_mutual_information():
    probs = random_probs(passes=5, n=7, classes=3, seed=3)
    chosen = batchbald_select(probs, 3, 1000, np.random.default_rng(0)).tolist()
    greedy = []
    for _ in range(3):
        rest = [i for i in range(7) if i not in greedy]
        greedy.append(max(rest, key=lambda i: joint_mutual_information(probs, greedy + [i])))
    assert chosen == greedy


def test_batchbald_skips_a_duplicate_that_top_k_bald_takes():
    # one-hot passes: points 0 and 1 are the same coin, point 2 a correlated, lesser one
    votes = np.array([[0, 0, 0], [0, 0, 0], [1, 1, 0], [1, 1, 1]])
    probs = np.eye(2)[votes]
    assert set(np.argsort(-bald(probs), kind="stable")[:2]) == {0, 1}
    assert batchbald_select(probs, 2, 100, np.random.default_rng(0)).tolist() == [0, 2]


def test_sampled_batchbald_returns_distinct_points_deterministically():
    probs = random_probs(passes=8, n=20, classes=4, seed=1)
    first = batchbald_select(probs, 6, 10, np.random.default_rng(5))
    again = batchbald_select(probs, 6, 10, np.random.default_rng(5))
    assert len(set(first.tolist())) == 6 and first.tolist() == again.tolist()
    assert ((first >= 0) & (first < 20)).all()


def test_batchbald_rejects_impossible_requests():
    with pytest.raises(ValueError, match="cannot choose 4 of 3"):
        batchbald_select(random_probs(n=3), 4, 10, np.random.default_rng(0))
