"""DAL as the study's code runs it (dsgissin/DiscriminativeActiveLearning, ``query_methods.py``
and ``models.py``): the ``-study`` strategies.

What differs from albench's ``dal`` (see the plugin README for the line references): each
sub-batch draws a fresh unlabelled subsample of ``unlabeled_ratio`` times the labelled count
and scores and selects only from it; sub-batches are ``budget // sub_batches`` examples each
(the last one smaller); the discriminator's width, optimiser, batch size and epoch cap follow
the study's dispatch on the representation's shape; its two classes weigh the same (the
study's weight formula, applied to one-hot labels, evaluates to 1:1); layers start from
Keras's glorot-uniform initialisation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.nn.utils import skip_init

from albench import QueryContext
from albench.scoring import gumbel_top_k, top_k
from albench_dal.networks import (
    DiscriminatorConfig,
    initialise,
    run_generator,
    train_discriminator,
    unlabeled_probability,
)

StudyRepresentation = Literal["embedding", "raw", "conv-autoencoder"]
KERAS_ADAM_EPS = 1e-7
"""Keras 2's default Adam epsilon (``K.epsilon()``)."""


def study_discriminator(shape: tuple[int, ...], max_epochs: int | None = None
                        ) -> DiscriminatorConfig:
    """The study's discriminator for inputs of ``shape`` (``models.py``, L109-129, L252-299).

    Width 20 when the shape's entries sum to under 30, else 256 (three hidden layers).
    Optimiser, batch and epoch cap by the largest entry: 28 → Adam 3e-4, 200 epochs;
    128 → Adam 1e-4, batch 128, 1,000 epochs; 512 → Adam 2e-4, 500 epochs; 32 → Adam 3e-4,
    500 epochs (batch 1,024 for these); anything else → Adam 1e-3, batch 32, 1,000 epochs.
    A learned representation of width d has the shape ``(d, 1)`` there. ``max_epochs``
    overrides the epoch cap (a departure from the study, for cost).
    """
    hidden = 20 if sum(shape) < 30 else 256
    lr, epochs, batch = {28: (3e-4, 200, 1024), 128: (1e-4, 1000, 128),
                         512: (2e-4, 500, 1024), 32: (3e-4, 500, 1024)
                         }.get(max(shape), (1e-3, 1000, 32))
    return DiscriminatorConfig(hidden=hidden, depth=3, lr=lr, batch_size=batch,
                               max_epochs=max_epochs or epochs, stop_accuracy=0.98,
                               class_weights="equal", init="glorot", adam_eps=KERAS_ADAM_EPS)


def study_sub_batch_sizes(budget: int, sub_batches: int) -> list[int]:
    """Sub-batches of ``budget // sub_batches`` examples until ``budget`` is reached.

    The study's loop (``query_methods.py`` L307-311): the last sub-batch takes what is left,
    so ``budget`` 25 in 20 sub-batches is 25 sub-batches of one. Below ``sub_batches`` the
    study's step is 0 and its loop never ends; here the step is then 1.
    """
    step = max(1, budget // sub_batches)
    sizes = [step] * (budget // step)
    return sizes + [budget % step] if budget % step else sizes


Pick = Callable[[np.ndarray, np.ndarray, int], np.ndarray]
"""``pick(labelled, candidates, size)``: ``size`` of ``candidates`` (pool indices)."""


def discriminative_query(labeled: np.ndarray, sizes: list[int], unlabeled_ratio: int,
                         rng: np.random.Generator, pick: Pick
                         ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The study's sub-batch loop over the boolean pool mask ``labeled`` (not modified).

    Before each sub-batch, a fresh random subsample of ``unlabeled_ratio`` times the labelled
    count (the picks so far included) is drawn from the unlabelled pool; ``pick`` chooses
    the sub-batch from it. Returns each sub-batch's (candidates, picks). With nothing
    labelled there is nothing to tell apart, so that sub-batch is drawn at random.
    """
    labeled = labeled.copy()
    steps = []
    for size in sizes:
        positives, unlabeled = np.flatnonzero(labeled), np.flatnonzero(~labeled)
        if len(positives) == 0:
            candidates = unlabeled
            picks = rng.choice(unlabeled, size, replace=False)
        else:
            candidates = rng.choice(unlabeled, min(unlabeled_ratio * len(positives),
                                                    len(unlabeled)), replace=False)
            picks = pick(positives, candidates, size)
        labeled[picks] = True
        steps.append((candidates, picks))
    return steps


class ConvAutoencoder(nn.Module):
    """The study's MNIST autoencoder (``models.py`` L229-249), for ``channels`` input planes.

    Encoder: 3x3 convolutions of 32, 8 and 4 filters (ReLU, 'same' padding) with 2x2 max
    pooling after the first and the last; the code is 4 planes of a quarter the size
    (7x7x4 on 28x28 images). The decoder mirrors it with nearest upsampling and ends in a
    sigmoid; its output is cropped to the input size (a no-op on 28x28).
    """

    def __init__(self, channels: int, generator: torch.Generator):
        super().__init__()

        def conv(c_in, c_out):
            layer = skip_init(nn.Conv2d, c_in, c_out, 3, padding=1)
            initialise(layer, "glorot", generator)
            return layer

        pool = nn.MaxPool2d(2, ceil_mode=True)  # Keras 'same' pooling
        self.encoder = nn.Sequential(conv(channels, 32), nn.ReLU(), pool, conv(32, 8), nn.ReLU(),
                                     conv(8, 4), nn.ReLU(), pool)
        self.decoder = nn.Sequential(nn.Upsample(scale_factor=2), conv(4, 4), nn.ReLU(),
                                     conv(4, 8), nn.ReLU(), nn.Upsample(scale_factor=2),
                                     conv(8, 32), nn.ReLU(), conv(32, channels))

    def forward(self, x):
        """Reconstruction logits (the sigmoid is in the loss)."""
        return self.decoder(self.encoder(x))[..., :x.shape[-2], :x.shape[-1]]


def conv_autoencoder_codes(images: torch.Tensor, generator: torch.Generator,
                           epochs: int = 200, batch_size: int = 256, lr: float = 3e-4
                           ) -> torch.Tensor:
    """Train :class:`ConvAutoencoder` on ``images`` (N, C, H, W) in [0, 1] and return codes.

    The study's training (``query_methods.py`` L343-352): binary cross-entropy, Adam 3e-4,
    batches of 256, 200 epochs, on the whole pool. Codes come back flattened, (N, 4·h·w).
    """
    net = ConvAutoencoder(images.shape[1], generator).to(images.device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, eps=KERAS_ADAM_EPS)
    for _ in range(epochs):
        for batch in torch.randperm(len(images), generator=generator).split(batch_size):
            rows = images[batch.to(images.device)]
            loss = nn.functional.binary_cross_entropy_with_logits(net(rows), rows)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return torch.cat([net.encoder(part).flatten(1) for part in images.split(4096)])


class StudyDiscriminativeSampling:
    """DAL exactly as the study's code runs it; see the module docstring.

    ``representation``: ``embedding`` (the model's penultimate layer, as the study's
    ``DiscriminativeRepresentationSampling``), ``raw`` (inputs divided by their scale only,
    as ``DiscriminativeSampling``) or ``conv-autoencoder`` (the study's convolutional
    autoencoder's 7x7x4 codes, trained at a run's first query and kept for its later rounds,
    as ``DiscriminativeAutoencoderSampling``).
    ``temperature`` samples each sub-batch from the subsample with probability
    ∝ exp(P(unlabelled) / T), as ``DiscriminativeStochasticSampling``. ``max_epochs`` and
    ``ae_epochs`` override the study's epoch caps (departures, for cost).
    """

    def __init__(self, representation: StudyRepresentation = "embedding", *,
                 sub_batches: int = 20, unlabeled_ratio: int = 10,
                 temperature: float | None = None, max_epochs: int | None = None,
                 ae_epochs: int = 200):
        if representation not in ("embedding", "raw", "conv-autoencoder"):
            raise ValueError(f"dal-study: representation must be embedding, raw or "
                             f"conv-autoencoder, got {representation!r}")
        if sub_batches < 1 or unlabeled_ratio < 1 or ae_epochs < 1:
            raise ValueError("dal-study: sub_batches, unlabeled_ratio and ae_epochs must be "
                             "positive")
        if max_epochs is not None and max_epochs < 1:
            raise ValueError(f"dal-study: max_epochs must be positive, got {max_epochs}")
        if temperature is not None and temperature <= 0:
            raise ValueError(f"dal-study: temperature must be positive, got {temperature}")
        self.representation = representation
        self.sub_batches = sub_batches
        self.unlabeled_ratio = unlabeled_ratio
        self.temperature = temperature
        self.max_epochs = max_epochs
        self.ae_epochs = ae_epochs
        self._codes: tuple[tuple[str, int], torch.Tensor, tuple[int, ...]] | None = None
        self.last_steps: list[tuple[np.ndarray, np.ndarray]] = []
        """The last query's (candidates, picks) per sub-batch, for inspection."""

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        generator = context.torch_generator()
        features, shape = self._features(context, generator)
        config = study_discriminator(shape, self.max_epochs)

        def pick(positives, candidates, size):
            rows = torch.from_numpy(candidates).to(features.device)
            net = train_discriminator(features[torch.from_numpy(positives).to(features.device)],
                                      features[rows], config, generator)
            scores = unlabeled_probability(net, features[rows]).numpy()
            if self.temperature is None:
                return top_k(scores, candidates, size)
            return gumbel_top_k(scores / self.temperature, candidates, size,
                                       context.rng)

        labeled = context.labeled_mask()
        self.last_steps = discriminative_query(
            labeled, study_sub_batch_sizes(budget, self.sub_batches), self.unlabeled_ratio,
            context.rng, pick)
        if not self.last_steps:
            return np.empty(0, dtype=np.int64)
        return np.concatenate([picks for _, picks in self.last_steps])

    def _features(self, context: QueryContext, generator: torch.Generator
                  ) -> tuple[torch.Tensor, tuple[int, ...]]:
        """One feature row per pool example (on the model's device) and the study's shape."""
        everything = np.arange(context.dataset.pool_size)
        if self.representation == "embedding":
            rows = torch.from_numpy(context.embeddings(everything)).to(context.device)
            return rows, (rows.shape[1], 1)
        dataset = context.dataset
        pixels = torch.from_numpy(np.asarray(dataset.x_pool, dtype=np.float32) / dataset.scale)
        if self.representation == "raw":
            return pixels.flatten(1).to(context.device), dataset.input_shape
        if pixels.ndim != 4:
            raise ValueError(f"dal-ae-study: needs image inputs (channels, height, width), "
                             f"got pool inputs of shape {dataset.input_shape}")
        ae_generator = run_generator(context, generator)
        key = (dataset.revision, ae_generator.initial_seed())
        if self._codes is None or self._codes[0] != key:
            codes = conv_autoencoder_codes(pixels.to(context.device), ae_generator,
                                           epochs=self.ae_epochs)
            height, width = (math.ceil(side / 4) for side in pixels.shape[2:])
            self._codes = (key, codes, (height, width, 4))
        return self._codes[1], self._codes[2]
