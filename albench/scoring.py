"""Scores and picks that strategies share: top-k, entropy and Gumbel top-k sampling.

Public: plugins import these rather than reimplementing them, so ties and noise are drawn
the same way everywhere.
"""

from __future__ import annotations

import numpy as np


def top_k(scores: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates with the highest scores (ties broken by lower index)."""
    order = np.lexsort((candidates, -scores))
    return candidates[order[:k]]


def entropy(probs: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats; 0·log 0 counts as 0, so no NaN at probability 0."""
    probs = np.asarray(probs, dtype=np.float64)
    logs = np.log(np.where(probs > 0, probs, 1.0))
    return -(probs * logs).sum(axis=axis)


def gumbel_top_k(log_weights: np.ndarray, candidates: np.ndarray, k: int,
                 rng: np.random.Generator) -> np.ndarray:
    """``k`` candidates drawn without replacement with probability ∝ ``exp(log_weights)``.

    The Gumbel top-k trick: add Gumbel noise to the log-weights and keep the ``k`` largest.
    """
    gumbel = -np.log(-np.log1p(-rng.random(len(candidates))))  # 1 - U avoids log(0)
    return top_k(np.asarray(log_weights, dtype=np.float64) + gumbel, candidates, k)
