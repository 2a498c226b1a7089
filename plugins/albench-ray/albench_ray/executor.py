"""The Ray executor: every run is a Ray task that streams its rounds back to the driver.

Workers compute; the driver (the ``albench run`` process) receives each round as soon as
its task yields it and stores it, so a lost worker or a killed driver loses nothing that
was finished. A task whose worker dies is submitted again from the last round received,
up to ``max_retries`` times per run.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from dataclasses import dataclass, replace

import ray
from ray.exceptions import RayError, RayTaskError, TaskUnschedulableError

from albench.executors import Handler, Job, Message, run_messages
from albench.results import RoundRecord, RunRecord, parse_record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Worker:
    """Where a task runs: the node's IP address and the worker's process id."""

    node: str
    pid: int


@ray.remote(num_returns="streaming", max_retries=0, _generator_backpressure_num_objects=2)
def _run(job: Job):
    """Report the worker this task runs in, then every message of the run.

    Retries are the executor's (from the last round received), not Ray's (from scratch);
    the task pauses when two of its messages wait unread, so it never runs far ahead of
    the driver that stores them.
    """
    yield Worker(ray.util.get_node_ip_address(), os.getpid())
    yield from run_messages(job)


@dataclass
class _Task:
    """One run's progress as the driver saw it, enough to resubmit it."""

    job: Job
    record: RunRecord | None = None
    worker: Worker | None = None
    retries: int = 0

    def follow(self, message: Message) -> None:
        if message.kind == "start":
            self.record = parse_record(message.payload, f"run {message.run_id}")
        elif message.kind == "round":
            self.record.rounds.append(RoundRecord.model_validate_json(message.payload))

    def resumed(self) -> Job:
        """The job again, starting after the last round received."""
        if self.record is None:
            return self.job
        return replace(self.job, record_json=self.record.model_dump_json())


class RayExecutor:
    """Runs each job as a Ray task on an existing cluster or on a local one.

    :param address: the cluster to join (``auto`` for one started with ``ray start`` on this
        machine); defaults to ``RAY_ADDRESS``, and without either a local Ray is started.
    :param num_cpus: CPUs of the local Ray instance (default: ``workers``, else all).
    :param workers: the most runs in flight at once (default: as many as Ray can place).
    :param max_retries: how often one run is resubmitted after losing its worker.

    If Ray is already initialised in this process, that instance is used as it is.
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 workers: int | None = None, max_retries: int = 3):
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be non-negative, got {max_retries}")
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        if self.address and num_cpus is not None:
            raise ValueError("num_cpus only applies to a local Ray instance; it cannot be "
                             f"combined with the cluster address {self.address!r}")
        self.num_cpus = num_cpus if num_cpus is not None else workers
        self.workers = workers
        self.max_retries = max_retries
        self.running: dict[str, Worker] = {}
        """The worker of every run in flight, by run id."""

    def execute(self, jobs: list[Job], handle: Handler) -> None:
        if not jobs:
            return
        started = self._connect()
        try:
            self._execute(jobs, handle)
        finally:
            self.running.clear()
            if started:
                ray.shutdown()

    def _connect(self) -> bool:
        """Initialise Ray unless it is already; True when this call started it."""
        if ray.is_initialized():
            return False
        if self.address:
            ray.init(address=self.address)
        else:
            ray.init(num_cpus=self.num_cpus, include_dashboard=False)
        return True

    def _execute(self, jobs: list[Job], handle: Handler) -> None:
        gpus = {device: _gpus_per_run(device) for device in {job.device for job in jobs}}
        todo = deque(_Task(job) for job in jobs)
        in_flight: dict[ray.ObjectRefGenerator, _Task] = {}
        try:
            while todo or in_flight:
                while todo and (self.workers is None or len(in_flight) < self.workers):
                    task = todo.popleft()
                    in_flight[_submit(task.resumed(), gpus[task.job.device])] = task
                (stream,), _ = ray.wait(list(in_flight), num_returns=1)
                task = in_flight[stream]
                run_id = task.job.spec.run_id
                try:
                    item = ray.get(next(stream))
                except StopIteration:  # the run sent "done" or "error" before ending
                    del in_flight[stream]
                    self.running.pop(run_id, None)
                    continue
                except RayError as exc:
                    del in_flight[stream]
                    self.running.pop(run_id, None)
                    error = self._lost(task, exc)
                    if error is None:
                        todo.appendleft(task)
                    else:
                        handle(Message("error", run_id, error))
                    continue
                if isinstance(item, Worker):
                    task.worker = self.running[run_id] = item
                    continue
                task.follow(item)
                handle(item)
        finally:  # empty unless the driver failed or was interrupted: stop what it can't store
            for stream in in_flight:
                ray.cancel(stream, force=True)

    def _lost(self, task: _Task, exc: RayError) -> str | None:
        """Decide on a failed task: None to resubmit it, else the run's error message."""
        where = (f"worker {task.worker.pid} on {task.worker.node}" if task.worker
                 else "a Ray worker")
        summary = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        rounds = len(task.record.rounds) if task.record else 0
        if isinstance(exc, (RayTaskError, TaskUnschedulableError)):
            return f"{where} could not run the task: {summary}"
        if task.retries >= self.max_retries:
            return (f"{where} was lost with {rounds} rounds stored, after "
                    f"{task.retries} retries: {summary}")
        task.retries += 1
        log.warning("%s: %s lost (%s); resubmitting from round %d (retry %d of %d)",
                    task.job.spec.label, where, summary, rounds, task.retries,
                    self.max_retries)
        task.worker = None
        return None


def _submit(job: Job, num_gpus: int):
    if num_gpus:
        job = replace(job, device="cuda")  # Ray picks the GPU and makes it the only one
    return _run.options(num_gpus=num_gpus).remote(job)


def _gpus_per_run(device: str) -> int:
    """1 when the run should train on a GPU of the cluster, else 0."""
    if device == "cpu":
        return 0
    has_gpus = ray.cluster_resources().get("GPU", 0) > 0
    if device.startswith("cuda"):
        if not has_gpus:
            raise ValueError(f"device {device!r} asks for a GPU but the Ray cluster has "
                             f"none; use --device cpu or auto")
        return 1
    if device == "auto":
        return int(has_gpus)
    raise ValueError(f"device must be auto, cpu or cuda[:N] with the Ray executor, "
                     f"got {device!r}")
