"""Round 0 shared by every strategy of a seed: trained once, stored, loaded by each run.

Round 0 trains on the initial labelled set, which depends on the seed and not on the
strategy; so every strategy's run of one (setting, seed, model, training) starts from the
same model. The driver trains each missing round 0 first (:func:`ensure_round_zeros`, through
the same executor as the runs), stores its record and weights (safetensors, never pickle) in
the results store, and hands them to every run, which loads the weights instead of training.
Identical by construction, and one training fewer per run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from albench import reproducibility
from albench.errors import AlbenchError
from albench.results import ResultStore, RoundZeroRecord, StoreBusyError, now
from albench.seeds import MODEL, derived_seed, initial_labeled
from albench.spec import RunSpec, identity

QUERY_FIELDS = ("suite", "suite_version", "strategy", "strategy_options", "batch_size",
                "rounds")
"""Spec fields that do not affect round 0: it is shared across them."""


class RoundZeroError(AlbenchError):
    """A stored round 0 that does not fit the run (other data, corrupted weights)."""


def round_zero_identity(spec: RunSpec) -> dict:
    """The spec fields round 0 depends on: the setting, model, training, initial set, seed."""
    data = identity(spec)
    for name in QUERY_FIELDS:
        data.pop(name, None)
    return data


def round_zero_key(spec: RunSpec) -> str:
    """Stable identifier of ``spec``'s round 0 (a hash, like a run id)."""
    canonical = json.dumps(round_zero_identity(spec), sort_keys=True, separators=(",", ":"))
    return "r0-" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def round_zero_claim(key: str) -> str:
    """The claim name of a shared round 0 in the store (claims are shared with runs)."""
    return f"round0:{key}"


@dataclass(frozen=True)
class RoundZero:
    """A stored round 0: its record and its model's weights (safetensors bytes)."""

    record: RoundZeroRecord
    weights: bytes

    def load_model(self, trainer, seed: int):
        """The round-0 model, ready for inference: a fresh model with the stored weights."""
        from safetensors.torch import load

        if hashlib.sha256(self.weights).hexdigest() != self.record.weights_sha256:
            raise RoundZeroError(f"round 0 {self.record.key}: stored weights do not match "
                                 f"their checksum")
        model = trainer.new_model(seed)
        state = load(self.weights)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise RoundZeroError(f"round 0 {self.record.key}: stored weights do not fit the "
                                 f"model: {exc}") from None
        model.eval()
        return model


def weights_bytes(model) -> bytes:
    """``model``'s state (parameters and buffers) as safetensors bytes."""
    from safetensors.torch import save

    return save({name: tensor.detach().cpu().contiguous()
                 for name, tensor in model.state_dict().items()})


def train_round_zero(run) -> RoundZero:
    """Train ``run``'s round 0 (a :class:`albench.loop.PreparedRun`) and package it."""
    spec, dataset, trainer = run.spec, run.dataset, run.trainer
    labeled = initial_labeled(spec, dataset.pool_size)
    fit = trainer.fit(dataset.x_pool[labeled], dataset.y_pool[labeled],
                      seed=derived_seed(spec.seed, MODEL, 0))
    weights = weights_bytes(fit.model)
    record = RoundZeroRecord(
        key=round_zero_key(spec), identity=round_zero_identity(spec),
        dataset_revision=dataset.revision, labeled=len(labeled),
        accuracy=trainer.accuracy(fit.model, dataset.x_test, dataset.y_test),
        val_accuracy=fit.val_accuracy, epochs=fit.epochs_run, train_seconds=fit.seconds,
        device=reproducibility.device_label(trainer.device), threads=reproducibility.threads(),
        determinism=reproducibility.determinism(trainer.device),
        weights_sha256=hashlib.sha256(weights).hexdigest(), created_at=now())
    return RoundZero(record, weights)


@dataclass
class RoundZeroOutcome:
    """What :func:`ensure_round_zeros` got: models by key, and keys it could not get."""

    ready: dict[str, RoundZero]
    failed: dict[str, str]
    busy: set[str]


def ensure_round_zeros(specs: list[RunSpec], store: ResultStore, executor, make_job: Callable,
                       force: bool = False, progress: bool = True,
                       poll_seconds: float = 1.0) -> RoundZeroOutcome:
    """Every round 0 that ``specs`` need: loaded from the store, or trained once and stored.

    Each missing (or, with ``force``, every) round 0 is claimed in the store like a run, so
    two processes never train the same one: this one waits for a round 0 another process
    is training. ``make_job(spec)`` builds the executor's job for one of them.
    """
    from tqdm.auto import tqdm

    by_key: dict[str, RunSpec] = {}
    for spec in specs:
        by_key.setdefault(round_zero_key(spec), spec)
    outcome = RoundZeroOutcome({}, {}, set())
    todo: dict[str, str] = {}
    bar = tqdm(total=0, desc="round 0", unit="model", disable=True)

    def handle(message) -> None:
        key = todo[message.run_id]
        if message.kind == "round0":
            model = RoundZero(RoundZeroRecord.model_validate_json(message.payload),
                              message.data)
            store.save_round_zero(model.record, model.weights)
            outcome.ready[key] = model
            bar.update(1)
        elif message.kind == "error":
            outcome.failed[key] = f"round 0 failed: {message.payload}"
            tqdm.write(f"FAILED round 0 of {by_key[key].label}: {message.payload}")

    try:  # an interruption anywhere releases what this process claimed
        for key, spec in by_key.items():
            stored = None if force else store.get_round_zero(key)
            if stored is not None:
                outcome.ready[key] = RoundZero(*stored)
                continue
            todo[spec.run_id] = key  # before claiming: a signal may land in between
            try:
                store.claim(round_zero_claim(key))
            except StoreBusyError:
                del todo[spec.run_id]
                outcome.busy.add(key)
        bar = tqdm(total=len(todo), desc="round 0", unit="model",
                   disable=not progress or not todo)
        executor.execute([make_job(by_key[key]) for key in todo.values()], handle)
    finally:
        bar.close()
        for key in todo.values():
            store.release(round_zero_claim(key))
    _wait_for_others(store, outcome, poll_seconds)
    return outcome


def _wait_for_others(store: ResultStore, outcome: RoundZeroOutcome, poll_seconds: float
                     ) -> None:
    """Wait for the round-0 models other processes are training; those that end without
    storing theirs stay ``busy`` (running again trains them)."""
    waiting = set(outcome.busy)
    while waiting:
        for key in list(waiting):
            stored = store.get_round_zero(key)
            if stored is not None:
                outcome.ready[key] = RoundZero(*stored)
                outcome.busy.discard(key)
                waiting.discard(key)
            elif not store.claimed_elsewhere(round_zero_claim(key)):
                waiting.discard(key)
        if waiting:
            time.sleep(poll_seconds)
