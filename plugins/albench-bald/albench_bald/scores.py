"""Pure acquisition functions on MC-dropout probabilities of shape ``(passes, n, classes)``.

Higher scores mean more informative. Entropies are in nats and treat 0·log 0 as 0.
"""

from __future__ import annotations

import numpy as np

from albench.scoring import entropy

_GAIN_CHUNK = 2**22
"""Most floats of ``(candidates, configurations, classes)`` that BatchBALD holds at once."""


def bayesian_least_confidence(probs: np.ndarray) -> np.ndarray:
    """One minus the top probability of the mean MC prediction."""
    return 1.0 - np.asarray(probs, dtype=np.float64).mean(axis=0).max(axis=1)


def bayesian_entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy of the mean MC prediction (the predictive entropy)."""
    return entropy(np.asarray(probs, dtype=np.float64).mean(axis=0))


def expected_entropy(probs: np.ndarray) -> np.ndarray:
    """Mean entropy of the individual passes' predictions."""
    return entropy(probs).mean(axis=0)


def bald(probs: np.ndarray) -> np.ndarray:
    """Mutual information between label and weights: H[mean p] - mean H[p] (Houlsby et al.)."""
    return np.maximum(bayesian_entropy(probs) - expected_entropy(probs), 0.0)


def variation_ratios(probs: np.ndarray) -> np.ndarray:
    """One minus the fraction of passes whose top class is the modal one."""
    passes, _, classes = np.shape(probs)
    votes = np.asarray(probs).argmax(axis=2)
    counts = (votes[:, :, None] == np.arange(classes)).sum(axis=0)
    return 1.0 - counts.max(axis=1) / passes


def batchbald_select(probs: np.ndarray, k: int, samples: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Greedy BatchBALD (Kirsch et al. 2019): positions along axis 1 of ``k`` points.

    Each step adds the point with the largest conditional mutual information
    I(y; w | labels of the points chosen so far), which is what the joint mutual
    information gains. Label configurations of the chosen points are enumerated exactly
    while there are at most ``samples`` of them, then drawn from their joint distribution
    (``samples`` at a time); for each configuration we keep the posterior weights of the
    passes given it. The passes must share one dropout mask across all points.
    """
    probs = np.asarray(probs, dtype=np.float64)
    passes, n, _ = probs.shape
    if not 0 <= k <= n:
        raise ValueError(f"batchbald_select: cannot choose {k} of {n} points")
    if samples < 1:
        raise ValueError(f"batchbald_select: samples must be at least 1, got {samples}")
    conditional = expected_entropy(probs)
    weights = np.full((passes, 1), 1.0 / passes)  # p(pass | configuration), columns sum to 1
    mass = np.ones(1)  # each configuration's share of the joint expectation
    available = np.ones(n, dtype=bool)
    chosen = []
    for _ in range(k):
        gain = _joint_entropy_term(probs, weights, mass) - conditional
        gain[~available] = -np.inf
        best = int(np.argmax(gain))
        chosen.append(best)
        available[best] = False
        joint = weights[:, :, None] * probs[:, best, None, :]  # (passes, configs, classes)
        label_given_config = joint.sum(axis=0)
        mass = (mass[:, None] * label_given_config).ravel()
        keep = mass > 0
        weights = (joint / np.where(label_given_config > 0, label_given_config, 1.0)
                   ).reshape(passes, -1)[:, keep]
        mass = mass[keep]
        if len(mass) > samples:
            drawn = rng.choice(len(mass), samples, p=mass / mass.sum())
            weights, mass = weights[:, drawn], np.full(samples, 1.0 / samples)
    return np.asarray(chosen, dtype=np.int64)


def _joint_entropy_term(probs: np.ndarray, weights: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """For each point: sum over configurations of mass · H[p(y | configuration)]."""
    passes, n, classes = probs.shape
    step = max(1, _GAIN_CHUNK // (weights.shape[1] * classes))
    out = np.empty(n)
    for start in range(0, n, step):
        block = probs[:, start:start + step].reshape(passes, -1)
        predictive = (weights.T @ block).reshape(weights.shape[1], -1, classes)
        out[start:start + step] = mass @ entropy(predictive)
    return out
