"""Pure acquisition functions on ensemble probabilities of shape ``(members, n, classes)``.

Higher scores mean more informative. Entropies are in nats and treat 0·log 0 as 0.
"""

from __future__ import annotations

import numpy as np

from albench.scoring import entropy


def vote_counts(probs: np.ndarray) -> np.ndarray:
    """How many members predict each class: ``(n, classes)``."""
    classes = probs.shape[2]
    votes = np.asarray(probs).argmax(axis=2)
    return (votes[:, :, None] == np.arange(classes)).sum(axis=0)


def ensemble_variation_ratios(probs: np.ndarray) -> np.ndarray:
    """One minus the fraction of members that predict the modal class (Beluch et al.)."""
    return 1.0 - vote_counts(probs).max(axis=1) / probs.shape[0]


def vote_entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy of the members' hard votes: query by committee (Dagan & Engelson)."""
    return entropy(vote_counts(probs) / probs.shape[0])


def ensemble_entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy of the members' mean prediction."""
    return entropy(np.asarray(probs, dtype=np.float64).mean(axis=0))


def ensemble_bald(probs: np.ndarray) -> np.ndarray:
    """Mutual information between label and member: H[mean p] - mean H[p]."""
    return np.maximum(ensemble_entropy(probs) - entropy(probs).mean(axis=0), 0.0)
