"""Recompute stored rounds from their specs: hand-edited or fabricated records do not match.

Runs are deterministic on a CPU at a fixed torch thread count, so round ``r`` of a record,
recomputed from the record's first ``r`` rounds at the record's thread count, must give the
stored accuracy and queries. ``albench compare`` rebuilds stored rounds the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from albench.errors import AlbenchError
from albench.loop import PreparedRun, iter_rounds, prepare
from albench.plugins import Plugins
from albench.results import RunRecord
from albench.seeds import initial_labeled


class ReplayError(AlbenchError):
    """A stored run cannot be recomputed here (another device, or other data)."""


def computed_threads(record: RunRecord, round_: int | None = None) -> int:
    """The torch thread count ``record`` (or its round ``round_``) was computed with; 1 when
    the record does not say."""
    rounds = record.rounds if round_ is None else record.rounds[round_:round_ + 1]
    stored = next((r.threads for r in rounds if r.threads), None)
    return int(stored or record.environment.get("torch_threads", 1))


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """torch's thread count set to ``threads`` inside the block, restored after."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def replaying(record: RunRecord, plugins: Plugins, threads: int) -> Iterator[PreparedRun]:
    """``record``'s run prepared on the CPU with ``threads`` torch threads (restored after);
    ReplayError when the data is not the record's."""
    with torch_threads(threads):
        run = prepare(record.spec, plugins, device="cpu")
        if record.dataset_revision != run.dataset.revision:
            raise ReplayError(f"the record was made on dataset revision "
                              f"{record.dataset_revision}, the data now is "
                              f"{run.dataset.revision}")
        yield run


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
                  threads: int | None = None) -> Verdict:
    """Recompute ``rounds`` of ``record`` on the CPU with ``threads`` torch threads (default:
    the record's own count) and list every difference from what is stored."""
    verdict = Verdict(record, list(rounds))
    try:
        with replaying(record, plugins, threads or computed_threads(record)) as run:
            _compare_rounds(record, run, verdict)
    except ReplayError as exc:
        verdict.problems.append(str(exc))
    except Exception as exc:  # noqa: BLE001 -- reported as the record's problem
        verdict.problems.append(f"cannot prepare the run: {type(exc).__name__}: {exc}")
    return verdict


def _compare_rounds(record: RunRecord, run: PreparedRun, verdict: Verdict) -> None:
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
