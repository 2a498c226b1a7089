"""The built-in executors: the process pool gives the local executor's results, and a
worker killed mid-run fails only its own run."""

import json
import os
import signal
from dataclasses import replace

import pytest

from albench.executors import (
    Job,
    LocalExecutor,
    Message,
    ProcessExecutor,
    RunProgress,
    isolated_local,
    run_messages,
)
from albench.results import ResultStore, parse_record
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


def test_run_progress_follows_each_run_from_its_messages(specs):
    job, other = Job(specs[0], None, "cpu"), Job(specs[1], None, "cpu")
    run_id = job.spec.run_id
    progress = RunProgress([job, other])
    run = progress[run_id]
    assert run.status == "pending" and run.rounds_left == job.spec.rounds + 1
    progress.place(run_id, 4242)
    assert progress.in_flight() == {run_id: 4242}
    start, first, second, *rest = run_messages(job)
    for message in (start, first, second):
        progress.follow(message)
    assert run.status == "running" and run.record.status == "running"
    assert run.rounds_done == 2 and progress.rounds_left()[run_id] == job.spec.rounds - 1
    resumed = run.resumed()
    assert parse_record(resumed.record_json).rounds == run.record.rounds
    assert RunProgress([resumed])[run_id].rounds_done == 2
    for message in rest:
        progress.follow(message)
    assert run.status == "done" and run.record.status == "complete" and run.rounds_left == 0
    assert progress.in_flight() == {} and progress.count("done") == 1

    progress.follow(Message("error", other.spec.run_id, "boom"))  # before its start
    assert progress[other.spec.run_id].status == "failed"
    assert progress[other.spec.run_id].record is None and progress.count("failed") == 1


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
