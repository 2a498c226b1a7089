"""Executors carry out runs and send their rounds back to the driver, which alone writes.

A run's work is :func:`run_messages`, a generator of :class:`Message`; an executor only
decides where that generator is iterated (in-process, a process pool, a Ray cluster).
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator, Literal, Protocol

from albench.spec import RunSpec


@dataclass(frozen=True)
class Message:
    """What a worker reports: a run started, a round finished, the run ended or failed."""

    kind: Literal["start", "round", "done", "error"]
    run_id: str
    payload: str = ""
    """JSON of the record (start), of the round (round), or the error text (error)."""


@dataclass(frozen=True)
class Job:
    """One run to compute, with the stored record to resume from (JSON), if any."""

    spec: RunSpec
    record_json: str | None
    device: str = "auto"


Handler = Callable[[Message], None]


class Executor(Protocol):
    """Computes jobs anywhere and calls ``handle`` in the driver for every message."""

    def execute(self, jobs: list[Job], handle: Handler) -> None: ...


def run_messages(job: Job) -> Iterator[Message]:
    """Compute one job, resuming from its record; never raises (errors become messages)."""
    from albench.loop import iter_rounds, new_record, prepare
    from albench.plugins import get_plugins
    from albench.results import parse_record

    run_id = job.spec.run_id
    try:
        run = prepare(job.spec, get_plugins(), job.device)
        if job.record_json is None:
            record = new_record(run)
        else:
            record = parse_record(job.record_json, f"run {run_id}")
        yield Message("start", run_id, record.model_dump_json())
        for round_record in iter_rounds(run, record):
            yield Message("round", run_id, round_record.model_dump_json())
        yield Message("done", run_id)
    except Exception as exc:
        detail = "".join(traceback.format_exception_only(exc)).strip()
        yield Message("error", run_id, detail)


class LocalExecutor:
    """Runs every job in this process, one after the other."""

    def execute(self, jobs: list[Job], handle: Handler) -> None:
        for job in jobs:
            for message in run_messages(job):
                handle(message)


def _pump(job: Job, messages) -> None:
    for message in run_messages(job):
        messages.put(message)


class ProcessExecutor:
    """Runs jobs in a pool of worker processes on this machine."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or max(1, multiprocessing.cpu_count() // 2)

    def execute(self, jobs: list[Job], handle: Handler) -> None:
        context = multiprocessing.get_context("spawn")
        with context.Manager() as manager, ProcessPoolExecutor(
                self.workers, mp_context=context) as pool:
            messages = manager.Queue()
            futures = [pool.submit(_pump, job, messages) for job in jobs]
            pending = {job.spec.run_id for job in jobs}
            while pending:
                try:
                    message = messages.get(timeout=1.0)
                except queue_module.Empty:
                    for job, future in zip(jobs, futures):
                        if future.done() and future.exception() and job.spec.run_id in pending:
                            pending.discard(job.spec.run_id)
                            handle(Message("error", job.spec.run_id,
                                           f"worker died: {future.exception()!r}"))
                    continue
                handle(message)
                if message.kind in ("done", "error"):
                    pending.discard(message.run_id)
