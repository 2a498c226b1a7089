"""The built-in executors: the process pool gives the local executor's results, and a
worker killed mid-run fails only its own run."""

import json
import os
import signal
from dataclasses import replace

import pytest

from albench.executors import LocalExecutor, ProcessExecutor, isolated_local
from albench.results import ResultStore
from albench.runner import run_specs
from albench.spec import load_suite
from albench.testing import check_executor, executor_checks, parametrize_with_checks


@pytest.fixture
def specs(tiny_suite):
    return load_suite(tiny_suite).run_specs(["random", "entropy"], seeds=[0, 1])


def outcomes(store: ResultStore) -> dict:
    """What must not depend on where runs execute: accuracies and queries, per run."""
    return {record.run_id: (record.status,
                            [(r.accuracy, r.val_accuracy, r.queried) for r in record.rounds])
            for record in store.records()}


@pytest.fixture
def local_outcomes(specs, tmp_path):
    store = ResultStore(tmp_path / "local")
    summary = run_specs(specs, store, LocalExecutor(), progress=False)
    assert len(summary.completed) == len(specs)
    return outcomes(store)


def test_process_executor_matches_local_and_survives_a_killed_worker(
        specs, local_outcomes, tmp_path):
    victim = specs[0].run_id
    store = ResultStore(tmp_path / "process")
    executor = ProcessExecutor(workers=2)
    original = executor.execute
    killed = []

    def execute(jobs, handle):
        def kill_after_first_round(message):
            handle(message)
            if message.run_id == victim and message.kind == "round" and not killed:
                killed.append(executor.running[victim])
                os.kill(killed[0], signal.SIGKILL)
        original(jobs, kill_after_first_round)

    executor.execute = execute
    summary = run_specs(specs, store, executor, progress=False)
    assert list(summary.failed) == [victim]
    assert f"worker process {killed[0]} killed by SIGKILL" in summary.failed[victim]
    assert sorted(summary.completed) == sorted(spec.run_id for spec in specs[1:])
    assert executor.running == {}
    got = outcomes(store)
    status, rounds = got.pop(victim)
    assert status == "failed" and rounds == local_outcomes[victim][1][:len(rounds)]
    assert got == {k: v for k, v in local_outcomes.items() if k != victim}
    assert all(status == "complete" for status, _ in local_outcomes.values())

    resumed = run_specs(specs, store, LocalExecutor(), progress=False)
    assert resumed.completed == [victim] and len(resumed.skipped) == len(specs) - 1
    assert outcomes(store) == local_outcomes


@parametrize_with_checks(executor_checks(isolated_local, "local")
                         + executor_checks(ProcessExecutor, "process", workers=2))
def test_executor_conformance(check):
    check()


def test_the_executor_checks_catch_an_executor_that_changes_results():
    class Skewed(LocalExecutor):
        """Stores every round's accuracy a little off."""

        def execute(self, jobs, handle):
            def skew(message):
                if message.kind == "round":
                    data = json.loads(message.payload)
                    data["accuracy"] += 1e-6
                    message = replace(message, payload=json.dumps(data))
                handle(message)
            super().execute(jobs, skew)

    with pytest.raises(AssertionError, match="differ from the in-process executor's"):
        check_executor(Skewed, "skewed")
