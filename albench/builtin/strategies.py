"""Random sampling and the classic uncertainty strategies (least confidence, margin, entropy)."""

from __future__ import annotations

import numpy as np

from albench import hookimpl
from albench.scoring import entropy, top_k
from albench.types import QueryContext


class RandomSampling:
    """Uniformly random unlabelled examples: the baseline every strategy must beat."""

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        return context.rng.choice(context.unlabeled_idx, budget, replace=False)


class UncertaintySampling:
    """Query the examples the model is least sure of, by one uncertainty score."""

    def __init__(self, score):
        self.score = score

    def scores(self, context: QueryContext) -> np.ndarray:
        """The uncertainty of each unlabelled example (higher is queried first)."""
        return self.score(context.predict_proba(context.unlabeled_idx))

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        return top_k(self.scores(context), context.unlabeled_idx, budget)


def least_confidence(probs: np.ndarray) -> np.ndarray:
    return 1.0 - probs.max(axis=1)


def smallest_margin(probs: np.ndarray) -> np.ndarray:
    if probs.shape[1] < 2:
        return np.zeros(len(probs))
    top2 = np.partition(probs, -2, axis=1)[:, -2:]
    return -(top2[:, 1] - top2[:, 0])


@hookimpl
def albench_register_strategies(register):
    register("random", RandomSampling, "uniformly random unlabelled examples")
    register("least-confidence", lambda: UncertaintySampling(least_confidence),
             "lowest top-class probability")
    register("margin", lambda: UncertaintySampling(smallest_margin),
             "smallest gap between the two most probable classes")
    register("entropy", lambda: UncertaintySampling(entropy),
             "highest predictive entropy")
