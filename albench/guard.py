"""What a strategy may see and touch, and the check that it changed nothing else.

A strategy gets a :class:`~albench.types.QueryContext` built by :func:`query_context`: a
read-only view of the pool without its labels and without the test set, read-only copies of
the labelled indices and their labels, and a trainer over that view. The loop keeps its own
arrays; :func:`owned_fingerprints` before and after each query tells whether a strategy
reached them anyway (through ``.base``, ``gc`` or a flipped ``writeable`` flag).
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from albench.training import Trainer
from albench.types import Dataset, QueryContext, labeled_mask

if TYPE_CHECKING:
    from torch import nn


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only copy of ``array`` (a copy, so flipping its flag reaches nothing else)."""
    out = np.array(array, copy=True)
    out.flags.writeable = False
    return out


def _read_only_view(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def strategy_view(dataset: Dataset) -> Dataset:
    """``dataset`` as strategies see it: pool inputs read-only, no pool labels, no test set.

    Its ``y_pool`` is all ``-1`` (``pool_labels_hidden``): the revealed labels are
    ``context.labeled_labels``.
    """
    empty_x = np.empty((0, *dataset.input_shape), dtype=dataset.x_test.dtype)
    empty_y = np.empty(0, dtype=np.int64)
    hidden = np.full(dataset.pool_size, -1, dtype=np.int64)
    for array in (empty_x, empty_y, hidden):
        array.flags.writeable = False
    return replace(dataset, x_pool=_read_only_view(dataset.x_pool), y_pool=hidden,
                   x_test=empty_x, y_test=empty_y, revision=dataset.revision,
                   pool_labels_hidden=True)


def query_context(dataset: Dataset, trainer: Trainer, model: nn.Module, labeled: np.ndarray,
                  rng: np.random.Generator, round_: int = 0,
                  run_start: np.random.Generator | None = None) -> QueryContext:
    """The context a strategy gets: a label-free view and read-only copies of the state.

    ``run_start`` is the run's first query's ``rng`` (``rng`` itself by default), which
    :meth:`QueryContext.run_rng` copies."""
    view = strategy_view(dataset)
    mask = labeled_mask(dataset.pool_size, labeled)
    return QueryContext(
        dataset=view, model=model, labeled_idx=read_only(labeled),
        unlabeled_idx=read_only(np.flatnonzero(~mask)),
        labeled_labels=read_only(dataset.y_pool[labeled]), rng=rng,
        _trainer=Trainer(view, trainer.model_factory, trainer.config, trainer.device,
                        trainer.model_options),
        round=round_, _run_start=run_start,
    )


def _crc(array: np.ndarray) -> int:
    return zlib.crc32(memoryview(np.ascontiguousarray(array)).cast("B"))


def owned_fingerprints(dataset: Dataset, labeled: np.ndarray) -> dict[str, int]:
    """Cheap checksums (CRC-32) of what the loop owns, by name."""
    return {"pool inputs (x_pool)": _crc(dataset.x_pool),
            "pool labels (y_pool)": _crc(dataset.y_pool),
            "test inputs (x_test)": _crc(dataset.x_test),
            "test labels (y_test)": _crc(dataset.y_test),
            "labelled indices": _crc(labeled)}


def changed_parts(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """Names of the fingerprinted parts whose checksum differs."""
    return [name for name, value in before.items() if after.get(name) != value]
