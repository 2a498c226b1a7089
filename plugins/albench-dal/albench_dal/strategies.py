"""Discriminative active learning (Gissin & Shalev-Shwartz 2019)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from albench import QueryContext
from albench.scoring import gumbel_top_k, top_k
from albench_dal.networks import (
    DiscriminatorConfig,
    autoencoder_features,
    run_generator,
    train_discriminator,
    unlabeled_probability,
)

Representation = Literal["embedding", "raw", "autoencoder"]


def sub_batch_sizes(budget: int, sub_batches: int) -> list[int]:
    """``min(sub_batches, budget)`` sizes that differ by at most one and sum to ``budget``."""
    parts = min(sub_batches, budget)
    if parts == 0:
        return []
    base, extra = divmod(budget, parts)
    return [base + 1] * extra + [base] * (parts - extra)


class DiscriminativeSampling:
    """Query what a labelled-vs-unlabelled discriminator finds least like the labelled set.

    The batch is chosen in ``sub_batches`` steps. Each step trains a fresh discriminator on
    the labelled examples (the points chosen so far included) against a random subsample of
    ``unlabeled_ratio`` times as many unlabelled ones, scores every unlabelled example by
    P(unlabelled) and takes the top of the step's share (or, with a ``temperature``, samples
    it without replacement with probability proportional to ``exp(P / temperature)``). With
    nothing labelled yet the first step's share is drawn at random.

    ``representation``: ``embedding`` (the model's penultimate layer), ``raw`` (flattened
    normalised inputs) or ``autoencoder`` (codes of an MLP autoencoder trained on the whole
    pool at a run's first query and kept for its later rounds).
    """

    def __init__(self, representation: Representation = "embedding", *, sub_batches: int = 10,
                 unlabeled_ratio: int = 10, temperature: float | None = None,
                 hidden: int = 256, depth: int = 3, lr: float = 3e-4, batch_size: int = 1024,
                 max_epochs: int = 200, stop_accuracy: float = 0.98,
                 ae_code: int = 64, ae_epochs: int = 10):
        if representation not in ("embedding", "raw", "autoencoder"):
            raise ValueError(f"dal: representation must be embedding, raw or autoencoder, "
                             f"got {representation!r}")
        if sub_batches < 1 or unlabeled_ratio < 1 or ae_code < 1 or ae_epochs < 1:
            raise ValueError("dal: sub_batches, unlabeled_ratio, ae_code and ae_epochs must be "
                             "positive")
        if temperature is not None and temperature <= 0:
            raise ValueError(f"dal: temperature must be positive, got {temperature}")
        self.representation = representation
        self.sub_batches = sub_batches
        self.unlabeled_ratio = unlabeled_ratio
        self.temperature = temperature
        self.discriminator = DiscriminatorConfig(hidden, depth, lr, batch_size, max_epochs,
                                                 stop_accuracy)
        self.ae_code, self.ae_epochs = ae_code, ae_epochs
        self._codes: tuple[tuple[str, int], torch.Tensor] | None = None

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        generator = context.torch_generator()
        features = self._features(context, generator)
        labeled = context.labeled_mask()
        chosen = []
        for size in sub_batch_sizes(budget, self.sub_batches):
            candidates = np.flatnonzero(~labeled)
            picks = self._pick(context.rng, features, labeled, candidates, size, generator)
            labeled[picks] = True
            chosen.append(picks)
        return np.concatenate(chosen) if chosen else np.empty(0, dtype=np.int64)

    def _pick(self, rng: np.random.Generator, features: torch.Tensor, labeled: np.ndarray,
              candidates: np.ndarray, size: int, generator: torch.Generator) -> np.ndarray:
        """One sub-batch: retrain the discriminator, then take (or sample) the top ``size``."""
        positives = np.flatnonzero(labeled)
        if len(positives) == 0:
            return rng.choice(candidates, size, replace=False)
        sample = rng.choice(candidates, min(self.unlabeled_ratio * len(positives),
                                            len(candidates)), replace=False)
        net = train_discriminator(features[_rows(positives, features)],
                                  features[_rows(sample, features)], self.discriminator,
                                  generator)
        scores = unlabeled_probability(net, features[_rows(candidates, features)]).numpy()
        if self.temperature is None:
            return top_k(scores, candidates, size)
        return gumbel_top_k(scores / self.temperature, candidates, size, rng)

    def _features(self, context: QueryContext, generator: torch.Generator) -> torch.Tensor:
        """One feature row per pool example, on the model's device."""
        everything = np.arange(context.dataset.pool_size)
        if self.representation == "embedding":
            return torch.from_numpy(context.embeddings(everything)).to(context.device)
        pixels = context.pool_inputs(everything).flatten(1).to(context.device)
        if self.representation == "raw":
            return pixels
        ae_generator = run_generator(context, generator)
        key = (context.dataset.revision, ae_generator.initial_seed())
        if self._codes is None or self._codes[0] != key:
            codes = autoencoder_features(pixels, ae_generator, code=self.ae_code,
                                         epochs=self.ae_epochs)
            self._codes = (key, codes)
        return self._codes[1]


def _rows(idx: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(idx).to(like.device)
