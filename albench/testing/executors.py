"""The executor contract, checked: ``check_executor`` and ``executor_checks``.

An executor decides where runs execute; whatever it decides, the stored runs must be what
the in-process executor stores. Each check runs a tiny suite (blobs, a small MLP, random
and entropy, two seeds, three rounds) through the executor into a fresh store and compares
the records with the in-process executor's, round by round.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

from albench.testing.checks import Check, run_checks
from albench.testing.suites import write_tiny_suite

__all__ = ["check_executor", "executor_checks"]


def _specs(folder: Path) -> list:
    from albench.spec import load_suite

    path = write_tiny_suite(folder, name="executor-check", threads=1)
    return load_suite(path).run_specs(["random", "entropy"], seeds=[0, 1])


def _outcomes(store) -> dict:
    """What must not depend on where runs execute, per run: status, the shared round 0's key,
    and every round's accuracies and queries."""
    return {r.run_id: (r.status, r.round_zero,
                       [(x.accuracy, x.val_accuracy, x.queried) for x in r.rounds])
            for r in store.records()}


def _run(executor, folder: Path) -> dict:
    """Run (or resume) the suite into ``folder``'s store; the outcomes."""
    from albench.results import ResultStore
    from albench.runner import run_specs

    store = ResultStore(folder / "results")
    summary = run_specs(_specs(folder), store, executor, device="cpu", progress=False,
                        threads=1)
    assert not summary.failed, f"runs failed: {summary.failed}"
    return _outcomes(store)


@cache
def _reference() -> dict:
    """The in-process executor's outcomes: what every executor must store."""
    from albench.executors import LocalExecutor

    with tempfile.TemporaryDirectory() as folder:
        return _run(LocalExecutor(), Path(folder))


def executor_checks(factory: Callable[..., object], name: str | None = None,
                    **options) -> list[Check]:
    """The executor's checks, one by one (see :func:`albench.testing.parametrize_with_checks`).

    ``factory(**options)`` builds a fresh executor for each check.
    """
    label = name or getattr(factory, "__name__", repr(factory))

    def same_results() -> None:
        with tempfile.TemporaryDirectory() as folder:
            got = _run(factory(**options), Path(folder))
        reference = _reference()
        assert set(got) == set(reference), (
            f"executor {label!r} stored runs {sorted(got)}, expected {sorted(reference)}")
        differ = sorted(run for run in got if got[run] != reference[run])
        assert not differ, (f"executor {label!r}: runs {differ} differ from the in-process "
                            f"executor's (accuracies, queries or shared round 0)")
        keys = {}
        for status, round_zero, rounds in got.values():
            assert status == "complete" and round_zero, (
                f"executor {label!r}: a run is {status!r} or did not start from the shared "
                f"round 0")
            keys.setdefault(round_zero, set()).add(rounds[0][:2])
        assert all(len(zero) == 1 for zero in keys.values()), (
            f"executor {label!r}: runs of one seed disagree on round 0")

    def resumes() -> None:
        from albench.executors import LocalExecutor
        from albench.results import ResultStore

        with tempfile.TemporaryDirectory() as folder:
            _run(LocalExecutor(), Path(folder))
            store = ResultStore(Path(folder) / "results")
            for record in store.records():  # as if interrupted after round 1
                store.save(record.model_copy(update={"rounds": record.rounds[:2],
                                                     "status": "running"}))
            got = _run(factory(**options), Path(folder))
        assert got == _reference(), (
            f"executor {label!r}: runs resumed after round 1 differ from uninterrupted ones")

    return [Check(label, "same_results", same_results), Check(label, "resumes", resumes)]


def check_executor(factory: Callable[..., object], name: str | None = None, **options) -> None:
    """Run every check of :func:`executor_checks`; one ``AssertionError`` lists the failures."""
    run_checks(executor_checks(factory, name, **options))
