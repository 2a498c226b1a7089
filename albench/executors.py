"""Executors carry out runs and send their rounds back to the driver, which alone writes.

A run's work is :func:`run_messages`, a generator of :class:`Message`; an executor only
decides where that generator is iterated (in-process, a process pool, a Ray cluster).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any, Literal, Protocol

from albench.errors import AlbenchError, raise_if_interrupted
from albench.results import RoundRecord, RunRecord, parse_record
from albench.spec import RunSpec

if TYPE_CHECKING:
    from albench.round_zero import RoundZero
    from albench.types import Dataset


@dataclass(frozen=True)
class Message:
    """What a worker reports: a run started, a round finished, the run ended or failed."""

    kind: Literal["start", "round", "round0", "done", "error", "query"]
    run_id: str
    payload: str = ""
    """JSON of the record (start), of the round (round), of a shared round 0's record
    (round0), the error text (error), or the round whose query begins (query: seen only by
    the process supervising the run)."""
    data: bytes = b""
    """A shared round 0's weights (round0)."""


@dataclass(frozen=True)
class Job:
    """One run to compute, with the stored record to resume from (JSON), if any."""

    spec: RunSpec
    record_json: str | None
    device: str = "auto"
    query_timeout: float | None = None
    """Seconds a strategy's ``select`` may take before the run fails (None: no limit)."""
    round_zero: RoundZero | None = None
    """The shared round 0 the run starts from (see :mod:`albench.round_zero`)."""
    train_round_zero: bool = False
    """Train the spec's shared round 0 and send it (a ``round0`` message), not the run."""
    threads: int | None = None
    """torch threads for the job (None: the worker's own count)."""
    deterministic: bool = True
    """Deterministic kernels on CUDA (see :mod:`albench.reproducibility`)."""


Handler = Callable[[Message], None]


class ExecutorError(AlbenchError, ValueError):
    """An executor cannot run the jobs as it was configured (the message says how to fix
    it); ``albench run`` reports it without a traceback."""


class Executor(Protocol):
    """Computes jobs anywhere and calls ``handle`` in the driver for every message."""

    def execute(self, jobs: list[Job], handle: Handler) -> None: ...


@dataclass
class RunState:
    """One run of a session as its messages tell it."""

    job: Job
    status: Literal["pending", "running", "done", "failed"] = "pending"
    rounds_done: int = 0
    record: RunRecord | None = None
    """The record from the run's start message, with every round received since."""
    where: Any = None
    """The worker computing the run (a process id, a Ray worker), while the executor has it
    in flight."""

    @property
    def rounds_left(self) -> int:
        """Rounds still to compute in this session (none once the run has ended)."""
        if self.status in ("done", "failed"):
            return 0
        return self.job.spec.rounds + 1 - self.rounds_done

    def resumed(self) -> Job:
        """The job again, resuming after the last round received."""
        if self.record is None:
            return self.job
        return replace(self.job, record_json=self.record.model_dump_json())


class RunProgress:
    """Every run of a session, followed message by message: which are pending, running, done
    or failed, their records so far and where each is computed. The driver keeps one to
    store rounds and show progress, an executor one to place, resume and report runs."""

    def __init__(self, jobs: Iterable[Job]):
        self.runs = {job.spec.run_id: RunState(job, rounds_done=_stored_rounds(job))
                     for job in jobs}

    def __getitem__(self, run_id: str) -> RunState:
        return self.runs[run_id]

    def follow(self, message: Message) -> RunState:
        """Apply ``message`` to its run's state (the record's status included)."""
        state = self.runs[message.run_id]
        if message.kind == "start":
            state.record = parse_record(message.payload, f"run {message.run_id}")
            state.record.status, state.record.error = "running", None
            state.status, state.rounds_done = "running", len(state.record.rounds)
        elif message.kind == "round":
            state.record.rounds.append(RoundRecord.model_validate_json(message.payload))
            state.rounds_done += 1
            if state.rounds_done == state.job.spec.rounds + 1:
                state.record.status = "complete"
        elif message.kind == "done":
            state.status, state.where = "done", None
        elif message.kind == "error":
            state.status, state.where = "failed", None
            if state.record is not None:
                state.record.status, state.record.error = "failed", message.payload
        return state

    def place(self, run_id: str, where: Any) -> None:
        """The executor has run ``run_id`` computed by ``where``."""
        self.runs[run_id].where = where

    def lost(self, run_id: str) -> None:
        """The worker computing ``run_id`` is gone (the run may be placed again)."""
        self.runs[run_id].where = None

    def in_flight(self) -> dict[str, Any]:
        """The worker of every run being computed, by run id."""
        return {run_id: s.where for run_id, s in self.runs.items() if s.where is not None}

    def count(self, status: str) -> int:
        return sum(state.status == status for state in self.runs.values())

    def rounds_left(self) -> dict[str, int]:
        return {run_id: state.rounds_left for run_id, state in self.runs.items()}


def _stored_rounds(job: Job) -> int:
    return 0 if job.record_json is None else len(parse_record(job.record_json).rounds)


def run_messages(job: Job, before_query: Callable[[int], None] | None = None,
                 dataset: Dataset | None = None) -> Iterator[Message]:
    """Compute one job, resuming from its record; never raises (errors become messages).

    ``before_query(round)`` is called just before each query (see :func:`iter_rounds`);
    ``dataset``, when given, is the spec's dataset already loaded (see
    :func:`albench.loop.load_dataset`), so the job does not load it again.
    """
    from albench import reproducibility
    from albench.devices import pick_device
    from albench.loop import iter_rounds, new_record, prepare
    from albench.plugins import get_plugins

    run_id = job.spec.run_id
    try:
        reproducibility.configure(pick_device(job.device), job.threads, job.deterministic)
        run = prepare(job.spec, get_plugins(), job.device, dataset)
        if job.train_round_zero:
            from albench.round_zero import train_round_zero

            model = train_round_zero(run)
            yield Message("round0", run_id, model.record.model_dump_json(), model.weights)
            yield Message("done", run_id)
            return
        if job.record_json is None:
            record = new_record(run)
        else:
            record = parse_record(job.record_json, f"run {run_id}")
        if job.round_zero is not None and not record.rounds:
            record.round_zero = job.round_zero.record.key
        yield Message("start", run_id, record.model_dump_json())
        for round_record in iter_rounds(run, record, job.query_timeout, job.round_zero,
                                        before_query):
            yield Message("round", run_id, round_record.model_dump_json())
        yield Message("done", run_id)
    except Exception as exc:  # noqa: BLE001 -- a run's failure becomes its error message
        raise_if_interrupted(exc)
        detail = "".join(traceback.format_exception_only(exc)).strip()
        yield Message("error", run_id, detail)


class LocalExecutor:
    """Runs every job in this process, one after the other: no isolation (the ``inline``
    executor, for debugging and for tests that register plugins in-process)."""

    def execute(self, jobs: list[Job], handle: Handler) -> None:
        for job in jobs:
            for message in run_messages(job):
                handle(message)


GRACE_SECONDS = 2.0
"""How long past ``--query-timeout`` a run's process may go on before it is killed (the
strategy's own time limit fires first and gives the cleaner error)."""


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (best effort elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _compute(connection, job: Job, threads: int) -> None:
    """A run's own process: compute it, sending each message and waiting for its receipt."""
    import torch

    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    torch.set_num_threads(threads)

    def before_query(round_: int) -> None:
        connection.send(Message("query", job.spec.run_id, str(round_)))
        connection.recv()

    for message in run_messages(job, before_query):
        connection.send(message)
        connection.recv()  # go on once the driver has stored it
    connection.close()


def _supervise(fork, job: Job, threads: int, driver) -> None:
    """Compute ``job`` in a forked process, relaying its messages to ``driver``.

    The process's death (exit, crash, signal) or an overrun of the query timeout, which
    kills it, becomes the run's error message; either way the next job starts afresh.
    """
    connection, child_end = fork.Pipe()
    process = fork.Process(target=_compute, args=(child_end, job, threads))
    process.start()
    child_end.close()
    try:
        error = _relay(process, connection, job, driver)
    except BaseException:  # the driver is gone (or this worker stops): so is the run
        process.kill()  # it waits for the driver's receipt and would outlive us
        process.join()
        connection.close()
        raise
    process.join(timeout=10)  # a strategy's leftover thread must not keep it alive
    if process.is_alive():
        process.kill()
        process.join()
    connection.close()
    if error is not None:
        driver.send(Message("error", job.spec.run_id, error))
        driver.recv()


def _relay(process, connection, job: Job, driver) -> str | None:
    """Pass the run's messages to ``driver`` until it is done; the error that ended it
    early (the process died, or its query ran past the time limit), if any."""
    deadline, round_ = None, None
    who = f"strategy {job.spec.strategy!r}"
    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not connection.poll(left):
            process.kill()
            return (f"{who} ran past its time limit of {job.query_timeout:g} s in round "
                    f"{round_}; its run's process was killed")
        try:
            message = connection.recv()
        except (EOFError, ConnectionResetError):
            process.join()
            where = f" during its query in round {round_}" if deadline else ""
            return f"the process computing the run ({who}) {_death(process.exitcode)}{where}"
        if message.kind == "query":
            round_ = int(message.payload)
            if job.query_timeout:
                deadline = time.monotonic() + job.query_timeout + GRACE_SECONDS
        else:
            deadline = None
            driver.send(message)
            driver.recv()
        with contextlib.suppress(OSError):  # if it has died, the next read says so
            connection.send(True)
        if message.kind in ("done", "error"):
            return None


def _serve(connection, threads: int) -> None:
    """A worker: load albench and its plugins once, then fork a fresh process per job.

    The worker itself runs no strategy code and no torch computation, so forking it is safe
    and each run starts warm but alone: its crash, exit or hang costs only that run.
    """
    from albench.plugins import get_plugins

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    get_plugins()
    fork = multiprocessing.get_context("fork")
    while (job := connection.recv()) is not None:
        _supervise(fork, job, threads, connection)


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


class _Worker:
    """One worker process and the pipe the driver talks to it through."""

    def __init__(self, context, threads: int):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, threads))
        self.process.start()
        child.close()  # the driver keeps only its end, so a dead worker reads as EOF
        self.job: Job | None = None

    def give(self, job: Job) -> bool:
        """Send ``job``; False when the worker has died while idle."""
        try:
            self.connection.send(job)
        except OSError:
            self.process.join()
            self.connection.close()
            return False
        self.job = job
        return True


def dataset_key(spec: RunSpec) -> str:
    """What loading a run's dataset reads of its spec: runs with the same key can share one
    loaded dataset (see :func:`run_messages`)."""
    return json.dumps([spec.dataset, spec.dataset_options, spec.pool_size], sort_keys=True)


def load_job_dataset(job: Job) -> Dataset:
    """``job``'s dataset, loaded as its run would load it."""
    from albench.loop import load_dataset
    from albench.plugins import get_plugins

    return load_dataset(job.spec, get_plugins())


class ProcessExecutor:
    """Runs jobs in ``workers`` processes on this machine (default: half the cores).

    Each worker computes every run in a fresh process forked from it (see :func:`_serve`),
    so a run that crashes, exits or hangs costs only itself: its error names the cause
    (such as ``killed by SIGSEGV`` or ``ran past its time limit``), the query timeout is
    enforced by killing the run's process, and the next run starts afresh. Workers share
    the cores (``threads`` torch threads per run, default ``cpu_count // workers``) and wait
    for the driver to store each round before computing the next, so the store never lags
    behind. A worker that dies (killed, out of memory) fails only the run it was computing;
    a fresh worker takes the remaining runs, and running the command again resumes the
    failed run at its last stored round.
    """

    def __init__(self, workers: int | None = None, threads: int | None = None):
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.workers = workers or max(1, multiprocessing.cpu_count() // 2)
        self.threads = threads or max(1, multiprocessing.cpu_count() // self.workers)
        self.progress = RunProgress(())
        """The runs of the current (or last) :meth:`execute`, placed on worker process ids."""

    @property
    def running(self) -> dict[str, int]:
        """The worker process id of every run in flight, by run id."""
        return self.progress.in_flight()

    def execute(self, jobs: list[Job], handle: Handler) -> None:
        context = multiprocessing.get_context("spawn")
        progress = self.progress = RunProgress(jobs)
        todo = deque(jobs)
        pool: list[_Worker] = []
        threads = self.threads

        def report(message: Message) -> None:
            progress.follow(message)
            handle(message)

        try:
            while todo or any(worker.job is not None for worker in pool):
                while todo and len(pool) < self.workers:
                    pool.append(_Worker(context, threads))
                for worker in list(pool):
                    if worker.job is None and todo:
                        if worker.give(todo[0]):
                            progress.place(todo.popleft().spec.run_id, worker.process.pid)
                        else:
                            pool.remove(worker)  # a fresh worker takes its place
                busy = {worker.connection: worker for worker in pool if worker.job is not None}
                if not busy:
                    continue
                for connection in wait(list(busy)):
                    worker = busy[connection]
                    try:
                        message = connection.recv()
                    except (EOFError, ConnectionResetError):  # the worker has died
                        worker.process.join()
                        worker.connection.close()
                        pool.remove(worker)
                        report(Message("error", worker.job.spec.run_id,
                                       f"worker process {worker.process.pid} "
                                       f"{_death(worker.process.exitcode)} during the run"))
                        continue
                    report(message)
                    if message.kind in ("done", "error"):
                        worker.job = None
                    with contextlib.suppress(OSError):  # if it has died, the next read says so
                        connection.send(True)
        finally:
            for worker in pool:  # idle workers stop; busy ones only if the driver failed
                if worker.job is None:
                    with contextlib.suppress(OSError):
                        worker.connection.send(None)
                else:
                    worker.process.terminate()
                    progress.lost(worker.job.spec.run_id)
            for worker in pool:
                worker.process.join(timeout=10)
                if worker.process.is_alive():
                    worker.process.kill()
                    worker.process.join()
                worker.connection.close()


def isolated_local(workers: int | None = None) -> ProcessExecutor:
    """The default executor: one run after another, each in a fresh process of its own,
    with this process's torch thread count (``--threads``)."""
    import torch

    return ProcessExecutor(workers or 1, threads=torch.get_num_threads())
