"""Recompute stored rounds from their specs: hand-edited or fabricated records do not match.

Runs are deterministic on a CPU at a fixed torch thread count, so round ``r`` of a record,
recomputed from the record's first ``r`` rounds, must give the stored accuracy and queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from albench.loop import initial_labeled, iter_rounds, prepare
from albench.plugins import Plugins
from albench.results import RunRecord


@dataclass
class Verdict:
    """What recomputing some rounds of one record found."""

    record: RunRecord
    rounds: list[int]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def sample_rounds(record: RunRecord, sample: int, rng: np.random.Generator) -> list[int]:
    """``sample`` stored rounds of ``record`` chosen at random (all of them when 0)."""
    stored = len(record.rounds)
    if sample <= 0 or sample >= stored:
        return list(range(stored))
    return sorted(rng.choice(stored, sample, replace=False).tolist())


def verify_record(record: RunRecord, rounds: Iterable[int], plugins: Plugins,
                  device: str = "cpu") -> Verdict:
    """Recompute ``rounds`` of ``record`` and list every difference from what is stored."""
    verdict = Verdict(record, list(rounds))
    try:
        run = prepare(record.spec, plugins, device)
    except Exception as exc:  # noqa: BLE001 -- reported as the record's problem
        verdict.problems.append(f"cannot prepare the run: {type(exc).__name__}: {exc}")
        return verdict
    if record.dataset_revision != run.dataset.revision:
        verdict.problems.append(f"dataset revision {record.dataset_revision} is not the data's "
                                f"{run.dataset.revision}")
        return verdict
    expected = initial_labeled(record.spec, run.dataset.pool_size).tolist()
    if record.initial_labeled_idx != expected:
        verdict.problems.append("the initial labelled set is not the one its seed draws")
    for round_ in verdict.rounds:
        stored = record.rounds[round_]
        before = record.model_copy(update={"rounds": record.rounds[:round_]})
        try:
            again = next(iter_rounds(run, before))
        except Exception as exc:  # noqa: BLE001 -- reported as the round's problem
            verdict.problems.append(f"round {round_}: recomputing it raised "
                                    f"{type(exc).__name__}: {exc}")
            continue
        if again.accuracy != stored.accuracy:
            verdict.problems.append(f"round {round_}: accuracy stored {stored.accuracy:.6g}, "
                                    f"recomputed {again.accuracy:.6g}")
        if again.queried != stored.queried:
            differ = len(set(again.queried) ^ set(stored.queried)) // 2
            verdict.problems.append(f"round {round_}: queried indices differ "
                                    f"({differ} of {len(stored.queried)} not the same)")
    return verdict
