"""The protocol types shared by the harness and its plugins."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import torch
    from torch import nn

    from albench.training import Trainer


@dataclass(frozen=True)
class Dataset:
    """A pool to query from and a fixed test set.

    Inputs are kept as stored (``uint8`` images or ``float32`` features), decoded once;
    :meth:`inputs` turns a slice into the normalised ``float32`` tensor that models eat.
    """

    name: str
    x_pool: np.ndarray
    y_pool: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    scale: float = 1.0
    """Raw values are divided by ``scale`` before ``(x - mean) / std`` (255 for images)."""
    input_range: tuple[float, float] | None = None
    """Valid range of raw values (``(0, 255)`` for images), for attacks that clip."""
    revision: str = ""
    """A fingerprint of the data, so reports never mix runs on different data."""
    classes: tuple[str, ...] = field(default=())
    pool_labels_hidden: bool = False
    """True in the view strategies get: ``y_pool`` is all ``-1``, the labels are withheld."""

    def __post_init__(self):
        if self.x_pool.shape[0] != self.y_pool.shape[0]:
            raise ValueError(f"dataset {self.name!r}: {self.x_pool.shape[0]} pool inputs but "
                             f"{self.y_pool.shape[0]} labels")
        if self.x_test.shape[0] != self.y_test.shape[0]:
            raise ValueError(f"dataset {self.name!r}: {self.x_test.shape[0]} test inputs but "
                             f"{self.y_test.shape[0]} labels")
        if self.x_pool.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"dataset {self.name!r}: pool inputs have shape "
                             f"{self.x_pool.shape[1:]} but test inputs {self.x_test.shape[1:]}")
        for part, y in (("pool", self.y_pool), ("test", self.y_test)):
            if part == "pool" and self.pool_labels_hidden:
                continue
            if y.size and (y.min() < 0 or y.max() >= self.num_classes):
                raise ValueError(f"dataset {self.name!r}: {part} labels outside "
                                 f"0..{self.num_classes - 1}")
        if not self.revision:
            object.__setattr__(self, "revision", fingerprint(self))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_pool.shape[1:])

    @property
    def pool_size(self) -> int:
        return int(self.x_pool.shape[0])

    def inputs(self, x: np.ndarray) -> torch.Tensor:
        """Normalised float32 tensor for raw inputs ``x`` (a slice of ``x_pool``/``x_test``)."""
        import torch

        # writeable: arrays shared read-only (Ray's object store) are copied, as torch needs
        t = torch.from_numpy(np.require(x, np.float32, ["C_CONTIGUOUS", "WRITEABLE"]))
        if self.scale != 1.0:
            t = t / self.scale
        mean = torch.tensor(self.mean, dtype=torch.float32)
        std = torch.tensor(self.std, dtype=torch.float32)
        if t.ndim == 4:  # images: per-channel statistics, channels first
            mean, std = mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1)
        return (t - mean) / std

    def subsample_pool(self, size: int, seed: int = 0) -> Dataset:
        """The same dataset with a fixed random subset of ``size`` pool examples."""
        if size >= self.pool_size:
            return self
        keep = np.sort(np.random.default_rng(seed).choice(self.pool_size, size, replace=False))
        return replace(self, x_pool=self.x_pool[keep], y_pool=self.y_pool[keep],
                       revision=f"{self.revision}/pool{size}s{seed}")


def labeled_mask(pool_size: int, labeled: np.ndarray) -> np.ndarray:
    """A fresh boolean mask over the pool, True at the ``labeled`` indices."""
    mask = np.zeros(pool_size, dtype=bool)
    mask[labeled] = True
    return mask


def fingerprint(dataset: Dataset) -> str:
    """Short SHA-256 of a dataset's arrays."""
    digest = hashlib.sha256()
    for array in (dataset.x_pool, dataset.y_pool, dataset.x_test, dataset.y_test):
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


@runtime_checkable
class ALModel(Protocol):
    """What a model must offer: an ``nn.Module`` whose ``forward(x) == head(embed(x))``.

    ``embed`` gives the penultimate-layer representation (used by core-set, DAL, BADGE);
    ``head`` is the final ``nn.Linear``. MC-dropout strategies need dropout layers.
    """

    head: nn.Linear

    def embed(self, x: torch.Tensor) -> torch.Tensor: ...

    def forward(self, x: torch.Tensor) -> torch.Tensor: ...


@dataclass
class QueryContext:
    """Everything a strategy may use to choose what to label next.

    Strategies never see the labels of unlabelled examples; ``labeled_labels`` holds the
    labels revealed so far, aligned with ``labeled_idx``. In a run (see
    :func:`albench.guard.query_context`) ``dataset`` is a read-only view of the pool without
    its labels and without the test set, and the index and label arrays are read-only copies.
    """

    dataset: Dataset
    model: nn.Module
    labeled_idx: np.ndarray
    unlabeled_idx: np.ndarray
    labeled_labels: np.ndarray
    rng: np.random.Generator
    _trainer: Trainer = field(repr=False)
    """Private: the harness's training routine over ``dataset`` (use the methods below)."""
    round: int = 0
    notes: list[str] = field(default_factory=list)
    """What the strategy reported about this query (``note``); stored with the round."""
    _run_start: np.random.Generator | None = field(default=None, repr=False)
    """Private: the run's first query's ``rng`` as it started (see :meth:`run_rng`); by
    default ``rng`` as it is now."""

    def __post_init__(self):
        self._run_start = copy.deepcopy(self._run_start if self._run_start is not None
                                        else self.rng)

    @property
    def device(self) -> torch.device:
        return self._trainer.device

    @property
    def inference_batch_size(self) -> int:
        """Examples per forward pass over the pool on :attr:`device`."""
        return self._trainer.inference_batch_size

    def draw_seed(self, high: int = 2**31) -> int:
        """A seed in ``[0, high)`` drawn from ``rng``, for a routine that takes a seed."""
        return int(self.rng.integers(high))

    def torch_generator(self) -> torch.Generator:
        """A CPU ``torch.Generator`` seeded from ``rng``."""
        import torch

        return torch.Generator().manual_seed(self.draw_seed(2**63))

    def run_rng(self) -> np.random.Generator:
        """A fresh generator, the same in every round of a run: the run's first query's
        ``rng`` as it started. Seed from it what a strategy computes once and keeps for
        later rounds (an autoencoder of the pool), so that a resumed run or a replayed
        round rebuilds exactly what an uninterrupted run kept."""
        return copy.deepcopy(self._run_start)

    def run_order(self, idx: np.ndarray) -> np.ndarray:
        """Positions that put ``idx`` (pool indices) in the order of one shuffle of the pool,
        drawn from :meth:`run_rng` and so the same in every round: ``idx[run_order(idx)]``.
        The study's code shuffled its pool once at load and met the unlabelled examples in
        that order; chunks of consecutive examples in it are random groups for a whole run."""
        position = np.empty(self.dataset.pool_size, dtype=np.int64)
        position[self.run_rng().permutation(self.dataset.pool_size)] = np.arange(
            self.dataset.pool_size)
        return np.argsort(position[idx])

    @property
    def num_classes(self) -> int:
        return self.dataset.num_classes

    def labeled_mask(self) -> np.ndarray:
        """A fresh (writable) boolean mask over the pool, True at the labelled examples."""
        return labeled_mask(self.dataset.pool_size, self.labeled_idx)

    def note(self, text: str) -> None:
        """Record a remark in the round's record (e.g. that a solver stopped at its limit)."""
        self.notes.append(str(text))

    def pool_inputs(self, idx: np.ndarray) -> torch.Tensor:
        """Normalised pool inputs at ``idx`` (on the CPU)."""
        return self.dataset.inputs(self.dataset.x_pool[idx])

    def predict_proba(self, idx: np.ndarray, model: nn.Module | None = None) -> np.ndarray:
        """Class probabilities ``(len(idx), num_classes)`` from the trained model."""
        return self._trainer.predict_proba(model or self.model, self.dataset.x_pool[idx])

    def embeddings(self, idx: np.ndarray, model: nn.Module | None = None) -> np.ndarray:
        """Penultimate-layer embeddings ``(len(idx), d)``."""
        return self._trainer.embed(model or self.model, self.dataset.x_pool[idx])

    def mc_dropout_proba(self, idx: np.ndarray, passes: int,
                         masks: str = "per-pass") -> np.ndarray:
        """``passes`` stochastic forward passes with dropout on: ``(passes, len(idx), C)``;
        one mask per pass, or ``masks="per-example"`` for a fresh one per example."""
        from albench.mc_dropout import mc_dropout_proba  # imports torch

        return mc_dropout_proba(self, idx, passes, "MC dropout", masks)

    def train_model(self, idx: np.ndarray, labels: np.ndarray | None = None,
                    seed: int | None = None) -> nn.Module:
        """Train a fresh model of the benchmark's architecture on pool examples ``idx``.

        ``labels`` defaults to the revealed labels (``idx`` must then be labelled); pass
        other labels to train, say, a discriminator. ``seed`` defaults to one drawn from
        ``rng``.
        """
        if labels is None:
            position = {int(i): k for k, i in enumerate(self.labeled_idx)}
            missing = [int(i) for i in idx if int(i) not in position]
            if missing:
                raise ValueError(f"train_model: indices {missing[:5]} are not labelled")
            labels = self.labeled_labels[[position[int(i)] for i in idx]]
        if seed is None:
            seed = self.draw_seed()
        return self._trainer.fit(self.dataset.x_pool[idx], labels, seed=seed).model

    def fit_models(self, seeds: list[int], parallel: int = 1,
                   strategy: str = "ensemble") -> list[nn.Module]:
        """One fresh model per seed, trained on the labelled examples as :meth:`train_model`
        does; ``parallel`` > 1 trains them in that many worker processes (same weights)."""
        return self._trainer.fit_models(self.dataset.x_pool[self.labeled_idx],
                                        np.array(self.labeled_labels), seeds, parallel, strategy)


class Strategy(Protocol):
    """A query strategy: ``select`` returns ``budget`` distinct unlabelled pool indices.

    It may also expose how it ranks the pool (``albench compare`` uses it): a greedy strategy
    has :meth:`ScoringStrategy.scores`, a batch strategy may have
    :meth:`OrderingStrategy.selection_order`.
    """

    def select(self, context: QueryContext, budget: int) -> np.ndarray: ...


class ScoringStrategy(Strategy, Protocol):
    """A greedy strategy: it queries the unlabelled examples with the highest scores."""

    def scores(self, context: QueryContext) -> np.ndarray:
        """One number per entry of ``context.unlabeled_idx`` (same order), none NaN, higher =
        picked first. ``select`` returns ``albench.scoring.top_k(scores,
        context.unlabeled_idx, budget)``: ties go to the lower pool index."""
        ...


class OrderingStrategy(Strategy, Protocol):
    """A batch strategy without per-example scores that can say in what order it picks."""

    def selection_order(self, context: QueryContext, budget: int) -> np.ndarray:
        """The ``budget`` pool indices that ``select`` returns, first picked first."""
        ...
