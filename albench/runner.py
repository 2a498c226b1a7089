"""The driver: decides what to run, hands jobs to an executor and stores every round."""

from __future__ import annotations

import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from albench.errors import raise_if_interrupted
from albench.eta import Eta, RoundCosts, format_seconds
from albench.executors import Executor, Job, Message, RunProgress, RunState
from albench.results import (
    RecordError,
    ResultStore,
    RunRecord,
    StoreBusyError,
    StoreError,
)
from albench.round_zero import ensure_round_zeros, round_zero_key
from albench.spec import RunSpec


@dataclass
class RunSummary:
    completed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class Driver:
    """Receives workers' messages and writes each round to the store as it arrives."""

    def __init__(self, store: ResultStore, jobs: list[Job], summary: RunSummary,
                 progress: bool = True, lines: bool = False):
        self.store = store
        self.runs = RunProgress(jobs)
        self.summary = summary
        self.lines, self.started = lines, time.monotonic()
        costs = RoundCosts(store.records()) if (progress or lines) and jobs else None
        self.eta = Eta({run_id: costs and costs.estimate(run.job.spec)
                        for run_id, run in self.runs.runs.items()})
        bars = progress and not lines
        self.bar = tqdm(total=len(jobs), desc="runs", unit="run", disable=not bars)
        self.round_bar = tqdm(total=sum(self.runs.rounds_left().values()), desc="rounds",
                              unit="round", disable=not bars,
                              bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} "
                                         "[{elapsed} elapsed{postfix} left]")
        self.round_bar.set_postfix_str(self._time_left())

    def _time_left(self) -> str:
        seconds = self.eta.seconds_left(self.runs.rounds_left(), time.monotonic() - self.started)
        return "about " + format_seconds(seconds)

    def _line(self, run: RunState, outcome: str) -> None:
        """One line per finished run, for logs (where bars would flood)."""
        if not self.lines:
            return
        finished = self.runs.count("done") + self.runs.count("failed")
        rounds = run.record.rounds if run.record is not None else []
        accuracy = f", accuracy {rounds[-1].accuracy:.3f}" if rounds else ""
        print(f"[{finished}/{len(self.runs.runs)}] {outcome} {run.job.spec.label}: "
              f"{len(rounds)} rounds{accuracy}; {self._time_left()} left",
              file=sys.stderr, flush=True)

    def handle(self, message: Message) -> None:
        run = self.runs.follow(message)
        run_id = message.run_id
        if message.kind == "start":
            self.store.save(run.record)
            self.bar.set_postfix(running=self.runs.count("running"), started=run.job.spec.label)
        elif message.kind == "round":
            self.store.save(run.record)
            self.eta.round_done(run_id)
            self.round_bar.set_postfix_str(self._time_left(), refresh=False)
            self.round_bar.update(1)
        elif message.kind == "done":
            self.summary.completed.append(run_id)
            self._finish(run, "done")
        else:
            if run.record is not None:
                self.store.save(run.record)
            self.summary.failed[run_id] = message.payload
            tqdm.write(f"FAILED {run.job.spec.label}: {message.payload}")
            self._finish(run, "failed")

    def _finish(self, run: RunState, outcome: str) -> None:
        self.store.release(run.job.spec.run_id)
        self.bar.set_postfix(running=self.runs.count("running"), refresh=False)
        self.bar.update(1)
        self._line(run, outcome)

    def close(self) -> None:
        self.bar.close()
        self.round_bar.close()


def _with_round_zero(pending: list[tuple[RunSpec, RunRecord | None]], store: ResultStore,
                     executor: Executor, force: bool, progress: bool, summary: RunSummary,
                     options: dict, query_timeout: float | None) -> list[Job]:
    """The runs' jobs, each run that starts at round 0 given its seed's shared round 0.

    Runs whose round 0 failed are recorded as failed, those whose round 0 another process
    is training as busy; neither gets a job.
    """
    starting = [spec for spec, record in pending if record is None or not record.rounds]
    outcome = ensure_round_zeros(
        starting, store, executor, lambda spec: Job(spec, None, train_round_zero=True,
                                                    **options),
        force=force, progress=progress)
    jobs = []
    for spec, record in pending:
        key = round_zero_key(spec)
        if record is not None and record.rounds:
            jobs.append(Job(spec, record.model_dump_json(), query_timeout=query_timeout,
                            **options))
        elif key in outcome.ready:
            jobs.append(Job(spec, None if record is None else record.model_dump_json(),
                            query_timeout=query_timeout, round_zero=outcome.ready[key],
                            **options))
        elif key in outcome.failed:
            summary.failed[spec.run_id] = outcome.failed[key]
            store.release(spec.run_id)
        else:
            summary.busy.append(spec.run_id)
            store.release(spec.run_id)
    return jobs


def run_specs(specs: list[RunSpec], store: ResultStore, executor: Executor,
              force: bool = False, device: str = "auto", progress: bool = True,
              query_timeout: float | None = None, threads: int | None = None,
              deterministic: bool = True, lines: bool = False) -> RunSummary:
    """Run (or resume) every spec not yet complete; finished runs are skipped unless forced.

    ``progress`` shows bars whose time left is estimated from the stored runs' per-round
    costs; ``lines`` prints one line per finished run instead (for logs).

    Runs that start at round 0 start from their seed's shared round 0, trained first (once
    per key; with ``force``, again) and stored; see :mod:`albench.round_zero`.
    """
    options = {"device": device, "threads": threads, "deterministic": deterministic}
    pending, claimed = [], {}
    summary = RunSummary()
    driver = None
    try:  # an interruption anywhere releases what this process claimed
        for spec in specs:
            claimed[spec.run_id] = spec  # before claiming: a signal may land in between
            try:
                store.claim(spec.run_id)
            except StoreBusyError:
                del claimed[spec.run_id]
                summary.busy.append(spec.run_id)
                continue
            existing = _claimed_record(store, spec, force, summary)  # read after claiming
            if existing is None and (spec.run_id in summary.failed or
                                     spec.run_id in summary.skipped):
                _release_quietly(store, spec.run_id)
                continue
            pending.append((spec, None if force else existing))
        jobs = _with_round_zero(pending, store, executor, force, progress and not lines,
                                summary, options, query_timeout)
        driver = Driver(store, jobs, summary, progress, lines)
        executor.execute(jobs, driver.handle)
    except Exception as exc:
        raise_if_interrupted(exc)
        raise
    finally:
        if driver is not None:
            driver.close()
        for run_id in claimed:
            if run_id not in summary.completed and run_id not in summary.failed:
                _release_quietly(store, run_id)
    return summary


def _claimed_record(store: ResultStore, spec: RunSpec, force: bool,
                    summary: RunSummary) -> RunRecord | None:
    """The stored record of a run this process has claimed, or None to compute it afresh.

    A finished run is skipped unless forced; an invalid record fails its run unless forced,
    when it is moved to the store's quarantine table and recomputed.
    """
    try:
        existing = store.get(spec.run_id)
    except RecordError as exc:
        if not force:
            summary.failed[spec.run_id] = str(exc)
            return None
        store.quarantine(spec.run_id, str(exc))
        return None
    if existing is not None and existing.finished and not force:
        summary.skipped.append(spec.run_id)
        return None
    return existing


def _release_quietly(store: ResultStore, run_id: str) -> None:
    """Release a claim; if the store cannot be written, the claim dies with this process."""
    with suppress(StoreError):
        store.release(run_id)
