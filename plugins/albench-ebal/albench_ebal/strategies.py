"""Deep-ensemble query strategies."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from albench import QueryContext
from albench.scoring import top_k


class EnsembleSampling:
    """Score the pool with ``members`` models trained independently on the labelled set.

    Member 0 is the round's own model (trained by the harness with its own seed); the
    other ``members - 1`` are trained from scratch by the same routine with seeds drawn
    from ``context.rng``. ``parallel`` > 1 trains them in that many worker processes.
    """

    def __init__(self, name: str, score: Callable[[np.ndarray], np.ndarray], members: int = 5,
                 parallel: int = 1):
        if members < 2:
            raise ValueError(f"{name}: an ensemble needs at least 2 members, got {members}")
        if parallel < 1:
            raise ValueError(f"{name}: parallel must be at least 1, got {parallel}")
        self.name, self.score, self.members, self.parallel = name, score, members, parallel

    def scores(self, context: QueryContext) -> np.ndarray:
        """The ensemble's score of each unlabelled example (trains ``members - 1`` models)."""
        seeds = [context.draw_seed() for _ in range(self.members - 1)]
        models = [context.model, *context.fit_models(seeds, self.parallel, self.name)]
        probs = np.stack([context.predict_proba(context.unlabeled_idx, model=m) for m in models])
        return self.score(probs)

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        return top_k(self.scores(context), context.unlabeled_idx, budget)
