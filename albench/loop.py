"""The active-learning loop: train from scratch, test, query, reveal labels, repeat."""

from __future__ import annotations

import platform
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from albench import __version__, reproducibility
from albench.devices import pick_device
from albench.errors import AlbenchError, raise_if_interrupted
from albench.guard import changed_parts, owned_fingerprints, query_context
from albench.plugins import Plugins
from albench.reproducibility import device_label
from albench.results import PluginRef, RoundRecord, RunRecord, now
from albench.round_zero import RoundZero, RoundZeroError
from albench.seeds import MODEL, STRATEGY, derived_seed, initial_labeled
from albench.spec import RunSpec
from albench.training import FitResult, Trainer
from albench.types import Dataset, QueryContext, labeled_mask

if TYPE_CHECKING:
    from torch import nn



class SelectionError(AlbenchError):
    """A strategy returned indices that break the contract."""


class StrategyError(AlbenchError):
    """A strategy raised an exception or ran past its time limit."""


@contextmanager
def time_limit(seconds: float | None, what: str):
    """Raise :class:`StrategyError` if the block runs longer than ``seconds``.

    Uses SIGALRM, so it applies in the main thread of a process (where every built-in
    executor computes runs); elsewhere the block runs unlimited.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise StrategyError(f"{what} ran past its time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _select(strategy, context: QueryContext, budget: int, query_timeout: float | None,
            who: str, round_: int):
    """``strategy.select``, its exceptions and overruns as :class:`StrategyError`."""
    try:
        with time_limit(query_timeout, who):
            return strategy.select(context, budget)
    except StrategyError:
        raise
    except (Exception, SystemExit, GeneratorExit) as exc:  # a strategy may not end the run
        raise_if_interrupted(exc)  # but Ctrl-C during a query does
        raise StrategyError(f"{who} raised {type(exc).__name__} in round {round_}: "
                            f"{exc}") from exc


def check_untouched(before: dict[str, int], dataset: Dataset, labeled: np.ndarray, who: str,
                    round_: int) -> None:
    """Fail the run, naming ``who``, if the loop's own data changed during a query."""
    changed = changed_parts(before, owned_fingerprints(dataset, labeled))
    if changed:
        raise StrategyError(f"{who} changed the harness's {', '.join(changed)} in round "
                            f"{round_}; strategies must not modify what they are given "
                            f"(work on copies)")


def validate_selection(selected, budget: int, labeled_mask: np.ndarray, who: str
                       ) -> np.ndarray:
    """Return ``selected`` as int64 indices, or raise :class:`SelectionError` naming ``who``."""
    where = who
    try:
        array = np.asarray(selected)
    except Exception as exc:  # noqa: BLE001 -- e.g. a meta or requires_grad tensor
        raise SelectionError(f"{where} returned a {type(selected).__name__} that cannot be read "
                             f"as pool indices ({type(exc).__name__}: {exc}); return a numpy "
                             f"array") from None
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise SelectionError(f"{where} returned {array.dtype} values; it must return integer "
                             f"pool indices")
    array = array.astype(np.int64).reshape(-1) if array.ndim <= 1 else array
    if array.ndim != 1:
        raise SelectionError(f"{where} returned an array of shape {np.shape(selected)}; "
                             f"it must be one-dimensional")
    if len(array) != budget:
        raise SelectionError(f"{where} returned {len(array)} indices for a budget of {budget}")
    out_of_range = array[(array < 0) | (array >= len(labeled_mask))]
    if len(out_of_range):
        raise SelectionError(f"{where} returned indices outside the pool of "
                             f"{len(labeled_mask)}: {out_of_range[:5].tolist()}")
    values, counts = np.unique(array, return_counts=True)
    if (counts > 1).any():
        raise SelectionError(f"{where} returned duplicate indices: "
                             f"{values[counts > 1][:5].tolist()}")
    already = array[labeled_mask[array]]
    if len(already):
        raise SelectionError(f"{where} returned already-labelled indices: "
                             f"{already[:5].tolist()}")
    return array


@dataclass
class PreparedRun:
    """A run's loaded parts: dataset, trainer and strategy."""

    spec: RunSpec
    dataset: Dataset
    trainer: Trainer
    strategy: object
    plugins: dict[str, PluginRef]


def prepare(spec: RunSpec, plugins: Plugins, device: str = "auto",
            dataset: Dataset | None = None) -> PreparedRun:
    """Load the dataset, model factory and strategy that ``spec`` names."""
    found = {kind: plugins.get(registry, getattr(spec, kind)) for kind, registry in
             (("dataset", "datasets"), ("model", "models"), ("strategy", "strategies"))}
    if dataset is None:
        dataset = load_dataset(spec, plugins)
    trainer = Trainer(dataset, found["model"].factory, spec.training, pick_device(device),
                      spec.model_options)
    strategy = found["strategy"].factory(**spec.strategy_options)
    refs = {kind: PluginRef(name=item.name, plugin=item.plugin, version=item.version)
            for kind, item in found.items()}
    return PreparedRun(spec, dataset, trainer, strategy, refs)


def load_dataset(spec: RunSpec, plugins: Plugins) -> Dataset:
    """The spec's dataset, its pool subsampled when the spec says so."""
    dataset = plugins.get("datasets", spec.dataset).factory(**spec.dataset_options)
    if spec.pool_size is not None:
        dataset = dataset.subsample_pool(spec.pool_size)
    return dataset


def new_record(run: PreparedRun) -> RunRecord:
    """A fresh record for a run that has not started."""
    initial = initial_labeled(run.spec, run.dataset.pool_size)
    return RunRecord(
        run_id=run.spec.run_id, status="running", spec=run.spec, plugins=run.plugins,
        environment=environment(run.trainer.device), dataset_revision=run.dataset.revision,
        initial_labeled_idx=initial.tolist(),
        initial_class_counts=class_counts(run.dataset, initial),
        started_at=now(), updated_at=now(),
    )


def environment(device) -> dict[str, str]:
    return {"albench": __version__, "python": platform.python_version(),
            "torch": torch.__version__, "numpy": np.__version__,
            "platform": platform.platform(), "device": device_label(device),
            "torch_threads": str(reproducibility.threads())}


def shared_fit(round_zero: RoundZero, run: PreparedRun, seed: int, device: str,
               threads: int) -> tuple[FitResult, float]:
    """Round 0's training result and test accuracy, from the seed's shared round 0."""
    stored = round_zero.record
    if stored.dataset_revision != run.dataset.revision:
        raise RoundZeroError(f"{run.spec.label}: round 0 {stored.key} was trained on dataset "
                             f"revision {stored.dataset_revision}, the data now is "
                             f"{run.dataset.revision}")
    reproducibility.check_threads(stored.threads, stored.device, threads, device,
                                  f"{run.spec.label}: its shared round 0 ({stored.key})")
    model = round_zero.load_model(run.trainer, seed)
    fit = FitResult(model, stored.val_accuracy, stored.epochs, stored.train_seconds)
    return fit, stored.accuracy


def class_counts(dataset: Dataset, idx: np.ndarray) -> list[int]:
    return np.bincount(dataset.y_pool[np.asarray(idx, dtype=np.int64)],
                       minlength=dataset.num_classes).tolist()


def labeled_before(record: RunRecord, round_: int) -> np.ndarray:
    """The labelled set that round ``round_`` of ``record`` trains on: the initial set and
    every earlier round's queries, in query order."""
    if not 0 <= round_ < len(record.rounds):
        raise ValueError(f"{record.spec.label}: round {round_} is not stored (rounds "
                         f"0..{len(record.rounds) - 1} are)")
    queried = [q for rnd in record.rounds[:round_] for q in rnd.queried]
    return np.asarray(record.initial_labeled_idx + queried, dtype=np.int64)


def fit_round(run: PreparedRun, labeled: np.ndarray, round_: int) -> FitResult:
    """Train round ``round_``'s model on the pool examples ``labeled``, with the round's seed."""
    dataset = run.dataset
    return run.trainer.fit(dataset.x_pool[labeled], dataset.y_pool[labeled],
                           seed=derived_seed(run.spec.seed, MODEL, round_))


def round_context(run: PreparedRun, model: nn.Module, labeled: np.ndarray,
                  round_: int) -> QueryContext:
    """Round ``round_``'s query context (see :func:`albench.guard.query_context`), its
    ``rng`` seeded for the round; the run's first query is round 0's."""
    def strategy_rng(round_: int) -> np.random.Generator:
        return np.random.default_rng(derived_seed(run.spec.seed, STRATEGY, round_))

    return query_context(run.dataset, run.trainer, model, labeled, strategy_rng(round_),
                         round_, run_start=strategy_rng(0))


def iter_rounds(run: PreparedRun, record: RunRecord, query_timeout: float | None = None,
                round_zero: RoundZero | None = None,
                before_query: Callable[[int], None] | None = None) -> Iterator[RoundRecord]:
    """Compute the rounds that ``record`` lacks, one at a time.

    Every round's randomness derives from (seed, round), so resuming after round ``r``
    gives exactly the numbers an uninterrupted run would. Round 0 comes from ``round_zero``
    (the seed's shared model) when given, and is trained here otherwise.
    ``before_query(round)`` is called just before each query (an executor starts its
    external timer there).
    """
    spec, dataset, trainer = run.spec, run.dataset, run.trainer
    device = device_label(trainer.device)
    threads = reproducibility.threads()
    labeled = np.asarray(record.labeled_idx, dtype=np.int64)
    if record.dataset_revision != dataset.revision:
        raise ValueError(f"{spec.label}: stored record was made on dataset revision "
                         f"{record.dataset_revision}, the data now is {dataset.revision}")
    if record.rounds:
        last = record.rounds[-1]
        reproducibility.check_threads(last.threads, last.device, threads, device,
                                      f"{spec.label}: stored round {last.round}")
    if len(labeled) and (labeled.min() < 0 or labeled.max() >= dataset.pool_size):
        raise ValueError(f"{spec.label}: stored record holds labelled indices outside the pool "
                         f"of {dataset.pool_size}; `albench run --force` recomputes it")
    for round_ in range(len(record.rounds), spec.rounds + 1):
        model_seed = derived_seed(spec.seed, MODEL, round_)
        trained_under = {"device": device, "threads": threads,
                         "determinism": reproducibility.determinism(trainer.device)}
        if round_ == 0 and round_zero is not None:
            fit, accuracy = shared_fit(round_zero, run, model_seed, device, threads)
            trained_under = {name: getattr(round_zero.record, name) for name in trained_under}
        else:
            fit = fit_round(run, labeled, round_)
            accuracy = trainer.accuracy(fit.model, dataset.x_test, dataset.y_test)
        queried, query_seconds, notes = np.empty(0, dtype=np.int64), 0.0, []
        mask = labeled_mask(dataset.pool_size, labeled)
        budget = min(spec.batch_size, int((~mask).sum()))
        if round_ < spec.rounds and budget > 0:
            who = f"strategy {spec.strategy!r} (plugin {run.plugins['strategy'].plugin})"
            context = round_context(run, fit.model, labeled, round_)
            if before_query is not None:
                before_query(round_)
            owned = owned_fingerprints(dataset, labeled)
            start = time.perf_counter()
            selected = _select(run.strategy, context, budget, query_timeout, who, round_)
            query_seconds = time.perf_counter() - start
            check_untouched(owned, dataset, labeled, who, round_)
            queried = validate_selection(selected, budget, mask, who)
            notes = [str(note)[:1000] for note in context.notes[:100]]  # bounded record
        yield RoundRecord(
            round=round_, labeled=len(labeled), accuracy=accuracy,
            val_accuracy=fit.val_accuracy, epochs=fit.epochs_run, queried=queried.tolist(),
            queried_class_counts=class_counts(dataset, queried) if len(queried) else [],
            train_seconds=fit.seconds, query_seconds=query_seconds, notes=notes,
            **trained_under,
        )
        labeled = np.concatenate([labeled, queried])
