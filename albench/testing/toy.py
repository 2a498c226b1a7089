"""Tiny real pools and trained toy models for plugin tests."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from albench.config import TrainingConfig
from albench.guard import query_context
from albench.plugins import get_plugins
from albench.training import Trainer
from albench.types import Dataset, QueryContext, fingerprint

FAST_TRAINING = TrainingConfig(epochs=15, batch_size=16, lr=3e-3, val_fraction=0.2)
"""Training settings for toy contexts: enough to separate the toy classes, in a blink."""


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch single-threaded: faster for toy-sized work on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def toy_dataset(n_pool: int = 120, n_test: int = 60, num_classes: int = 3, dim: int = 4,
                seed: int = 0, images: bool = False,
                image_shape: tuple[int, int, int] = (1, 8, 8)) -> Dataset:
    """Well-separated Gaussian classes.

    ``images=True`` gives uint8 'images' of ``image_shape`` (channels, height, width) that
    carry the same features, tiled.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, size=(num_classes, dim))
    y = np.arange(n_pool + n_test) % num_classes
    rng.shuffle(y)
    x = (centres[y] + rng.normal(size=(len(y), dim))).astype(np.float32)
    if images:
        size = math.prod(image_shape)
        x = np.tile(x, (1, -(-size // dim)))[:, :size]
        x = np.clip((x + 10) * 12, 0, 255).astype(np.uint8).reshape(-1, *image_shape)
        channels = image_shape[0]
        return Dataset("toy-images", x[:n_pool], y[:n_pool], x[n_pool:], y[n_pool:],
                       num_classes, scale=255.0, mean=(0.5,) * channels,
                       std=(0.25,) * channels, input_range=(0, 255))
    return Dataset("toy", x[:n_pool], y[:n_pool], x[n_pool:], y[n_pool:], num_classes)


_STATES: dict[tuple, dict[str, torch.Tensor]] = {}
_MAX_STATES = 32


def _trained_state(trainer: Trainer, model: str, labeled: np.ndarray, seed: int
                   ) -> dict[str, torch.Tensor]:
    """Weights of a model trained on ``labeled``, computed once per process."""
    dataset = trainer.dataset
    key = (fingerprint(dataset), model, trainer.config, tuple(labeled.tolist()), seed)
    if key not in _STATES:
        with one_thread():
            fitted = trainer.fit(dataset.x_pool[labeled], dataset.y_pool[labeled], seed)
        if len(_STATES) >= _MAX_STATES:
            _STATES.pop(next(iter(_STATES)))
        _STATES[key] = {k: v.detach().clone() for k, v in fitted.model.state_dict().items()}
    return _STATES[key]


def toy_context(dataset: Dataset | None = None, labeled_idx=None, n_labeled: int = 12,
                model: str = "mlp", seed: int = 0,
                training: TrainingConfig = FAST_TRAINING) -> QueryContext:
    """A real query context: a model of the named architecture trained on a labelled subset.

    Built like a run's (:func:`albench.guard.query_context`): the strategy sees a read-only
    pool without its labels and without the test set.

    ``labeled_idx`` defaults to ``n_labeled`` random pool indices; an empty one gives an
    untrained model. Trained weights are cached per process, and every call returns a
    fresh model and ``rng`` (``np.random.default_rng(seed)``).
    """
    dataset = dataset if dataset is not None else toy_dataset()
    if dataset.pool_labels_hidden:
        raise ValueError("toy_context needs the full dataset (such as toy_dataset()), not a "
                         "context's label-free view")
    if labeled_idx is None:
        labeled_idx = np.random.default_rng(seed).choice(dataset.pool_size, n_labeled,
                                                         replace=False)
    labeled_idx = np.asarray(labeled_idx, dtype=np.int64)
    factory = get_plugins().get("models", model).factory
    trainer = Trainer(dataset, factory, training, "cpu")
    trained = trainer.new_model(seed)
    if len(labeled_idx):
        trained.load_state_dict(_trained_state(trainer, model, labeled_idx, seed))
    trained.eval()
    return query_context(dataset, trainer, trained, labeled_idx, np.random.default_rng(seed))


class FixedLogistic(torch.nn.Module):
    """Softmax regression with given weights on the flattened inputs (``embed`` = identity).

    A model whose decision boundary a test knows exactly, for behavioural checks.
    """

    def __init__(self, weight, bias):
        super().__init__()
        weight = torch.as_tensor(np.asarray(weight), dtype=torch.float32)
        self.head = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.head.weight.copy_(weight)
            self.head.bias.copy_(torch.as_tensor(np.asarray(bias), dtype=torch.float32))

    def embed(self, x):
        return x.flatten(1)

    def forward(self, x):
        return self.head(self.embed(x))


def logistic_context(x, weight, bias, seed: int = 0,
                     input_range: tuple[float, float] | None = None) -> QueryContext:
    """A context over the points ``x``, all unlabelled, queried with a :class:`FixedLogistic`."""
    x = np.asarray(x, dtype=np.float32)
    zeros = np.zeros(len(x), dtype=np.int64)
    dataset = Dataset("points", x, zeros, x, zeros, num_classes=len(weight),
                      input_range=input_range)
    return model_context(dataset, FixedLogistic(weight, bias), seed=seed)


def model_context(dataset: Dataset, model: torch.nn.Module, labeled_idx=(),
                  seed: int = 0) -> QueryContext:
    """A context over ``dataset`` queried with ``model`` as given (no training)."""
    model = model.eval()
    trainer = Trainer(dataset, lambda *args, **kwargs: model, TrainingConfig(), "cpu")
    return query_context(dataset, trainer, model, np.asarray(labeled_idx, dtype=np.int64),
                         np.random.default_rng(seed))
