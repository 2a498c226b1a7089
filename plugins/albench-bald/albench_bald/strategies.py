"""The MC-dropout query strategies."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from albench import QueryContext
from albench.mc_dropout import MASKS, mc_dropout_chunks, mc_dropout_scores
from albench.scoring import top_k
from albench_bald.scores import bald, batchbald_select


class MCDropoutSampling:
    """The examples with the highest score of ``passes`` MC-dropout predictions, with one
    dropout mask per pass or (``masks="per-example"``, the DAL study's) per example.

    ``batch_stats`` (the study's: 128 for least confidence, 1,000 for entropy) puts a model's
    batch norm on the statistics of each pass over chunks of that many unlabelled examples,
    as Keras's learning phase 1 did; by default batch norm uses its running statistics."""

    def __init__(self, name: str, score: Callable[[np.ndarray], np.ndarray], passes: int,
                 masks: str = "per-pass", batch_stats: int | None = None):
        if passes < 1:
            raise ValueError(f"{name}: passes must be at least 1, got {passes}")
        if masks not in MASKS:
            raise ValueError(f"{name}: masks must be 'per-pass' or 'per-example', "
                             f"got {masks!r}")
        if batch_stats is not None and batch_stats < 1:
            raise ValueError(f"{name}: batch_stats must be at least 1, got {batch_stats}")
        self.name, self.score, self.passes, self.masks = name, score, passes, masks
        self.batch_stats = batch_stats

    def scores(self, context: QueryContext) -> np.ndarray:
        """The score of each unlabelled example under one draw of ``passes`` dropout masks."""
        return mc_dropout_scores(context, context.unlabeled_idx, self.passes, self.score,
                                 self.name, self.masks, self.batch_stats)

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        return top_k(self.scores(context), context.unlabeled_idx, budget)


class BatchBALD:
    """Greedy BatchBALD among the ``candidates`` unlabelled examples with the highest BALD.

    Memory is bounded by the pre-filter: MC probabilities are kept for at most
    ``max(candidates, budget)`` examples while the pool is scored chunk by chunk. When the
    budget is at least ``candidates``, the greedy search would take every candidate, so the
    batch is the top-BALD set, in BALD order, without it.
    """

    def __init__(self, passes: int = 100, candidates: int = 1000, samples: int = 1000):
        for option, value in (("passes", passes), ("candidates", candidates),
                              ("samples", samples)):
            if value < 1:
                raise ValueError(f"batchbald: {option} must be at least 1, got {value}")
        self.passes, self.candidates, self.samples = passes, candidates, samples

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        return self.selection_order(context, budget)

    def selection_order(self, context: QueryContext, budget: int) -> np.ndarray:
        """The batch in the order the greedy search picks it (BALD order when it is skipped)."""
        keep = max(self.candidates, budget)
        positions = np.empty(0, dtype=np.int64)
        scores = np.empty(0)
        kept = np.empty((self.passes, 0, context.num_classes), dtype=np.float32)
        for chunk, probs in mc_dropout_chunks(context, context.unlabeled_idx, self.passes,
                                              "batchbald"):
            positions = np.concatenate([positions, chunk])
            scores = np.concatenate([scores, bald(probs)])
            kept = np.concatenate([kept, probs], axis=1)
            best = np.sort(top_k(scores, np.arange(len(scores)), keep))
            positions, scores, kept = positions[best], scores[best], kept[:, best]
        if budget == len(positions):  # the greedy batch would be every candidate
            return context.unlabeled_idx[positions[np.argsort(-scores, kind="stable")]]
        chosen = batchbald_select(kept, budget, self.samples, context.rng)
        return context.unlabeled_idx[positions[chosen]]
