"""The Ray executor: every run is a Ray task that streams its rounds back to the driver.

Workers compute; the driver (the ``albench run`` process) receives each round as soon as
its task yields it and stores it, so a lost worker or a killed driver loses nothing that
was finished. A task whose worker dies is submitted again from the last round received,
up to ``max_retries`` times per run. Each dataset is loaded once, by the driver, and
shared with the tasks through Ray's object store.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections import Counter, deque
from dataclasses import dataclass, replace

import ray
from ray.exceptions import RayError, RayTaskError, TaskUnschedulableError

from albench import Dataset
from albench.executors import (
    ExecutorError,
    Handler,
    Job,
    Message,
    RunProgress,
    RunState,
    dataset_key,
    load_job_dataset,
    run_messages,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Worker:
    """Where a task runs: the Ray node, its IP address, the worker's process id and the
    GPUs Ray assigned it (ids and the fraction of each it may use)."""

    node: str
    ip: str
    pid: int
    gpu_ids: tuple[str, ...] = ()
    gpu_fraction: float = 0.0

    def describe(self, from_round: int) -> str:
        """How a record's ``ray_nodes`` entry names this worker."""
        gpus = (f", {self.gpu_fraction:g} of GPU {','.join(self.gpu_ids)}"
                if self.gpu_ids else "")
        return f"{self.node} ({self.ip}){gpus} from round {from_round}"


def _here() -> Worker:
    context = ray.get_runtime_context()
    return Worker(context.get_node_id(), ray.util.get_node_ip_address(), os.getpid(),
                  tuple(str(i) for i in context.get_accelerator_ids().get("GPU", ())),
                  context.get_assigned_resources().get("GPU", 0.0))


@ray.remote(num_returns="streaming", max_retries=0, _generator_backpressure_num_objects=2)
def _run(job: Job, dataset: Dataset | None):
    """Report the worker this task runs in, then every message of the run.

    The record's ``environment["ray_nodes"]`` gains this worker, from the round it starts
    at. Retries are the executor's (from the last round received), not Ray's (from
    scratch); the task pauses when two of its messages wait unread, so it never runs far
    ahead of the driver that stores them.
    """
    worker = _here()
    yield worker
    for message in run_messages(job, dataset=dataset):
        if message.kind == "start":
            message = replace(message, payload=_on_worker(message.payload, worker))
        yield message


def _on_worker(record_json: str, worker: Worker) -> str:
    """A start message's record with ``worker`` added to its ``ray_nodes``."""
    record = json.loads(record_json)
    environment = record["environment"]
    entry = worker.describe(len(record["rounds"]))
    environment["ray_nodes"] = "; ".join(filter(None, [environment.get("ray_nodes"), entry]))
    return json.dumps(record)


class RayExecutor:
    """Runs each job as a Ray task on an existing cluster or on a local one.

    :param address: the cluster to join (``auto`` for one started with ``ray start`` on this
        machine); defaults to ``RAY_ADDRESS``, and without either a local Ray is started.
    :param num_cpus: CPUs of the local Ray instance (default: ``workers``, else all).
    :param workers: the most runs in flight at once (default: as many as Ray can place).
    :param max_retries: how often one run is resubmitted after losing its worker.
    :param gpus_per_run: the share of a GPU each run on GPUs asks Ray for (default 1);
        ``0.1`` packs ten runs on each GPU. Above 1 it must be a whole number.

    If Ray is already initialised in this process, that instance is used as it is.
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 workers: int | None = None, max_retries: int = 3,
                 gpus_per_run: float | None = None):
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be non-negative, got {max_retries}")
        if gpus_per_run is not None:
            check_gpus_per_run(gpus_per_run)
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        if self.address and num_cpus is not None:
            raise ValueError("num_cpus only applies to a local Ray instance; it cannot be "
                             f"combined with the cluster address {self.address!r}")
        self.num_cpus = num_cpus if num_cpus is not None else workers
        self.workers = workers
        self.max_retries = max_retries
        self.gpus_per_run = gpus_per_run
        self.progress = RunProgress(())
        """The runs of the current (or last) :meth:`execute`, placed on Ray workers."""

    @property
    def running(self) -> dict[str, Worker]:
        """The worker of every run in flight, by run id."""
        return self.progress.in_flight()

    def execute(self, jobs: list[Job], handle: Handler) -> None:
        if not jobs:
            return
        started = self._connect()
        try:
            self._execute(jobs, handle)
        finally:
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
        gpus = {device: self._gpus(device) for device in {job.device for job in jobs}}
        datasets = _shared_datasets(jobs)
        progress = self.progress = RunProgress(jobs)
        todo = deque(progress.runs.values())
        in_flight: dict[ray.ObjectRefGenerator, RunState] = {}
        retries: Counter[str] = Counter()
        try:
            while todo or in_flight:
                while todo and (self.workers is None or len(in_flight) < self.workers):
                    run = todo.popleft()
                    stream = _submit(run.resumed(), gpus[run.job.device],
                                     datasets.get(dataset_key(run.job.spec)))
                    in_flight[stream] = run
                (stream,), _ = ray.wait(list(in_flight), num_returns=1)
                run = in_flight[stream]
                run_id = run.job.spec.run_id
                try:
                    item = ray.get(next(stream))
                except StopIteration:  # a stream ended without its run's last message
                    item = Message("error", run_id, "its Ray task ended before the run did")
                except RayError as exc:
                    del in_flight[stream]
                    error = self._lost(run, retries[run_id], exc)
                    progress.lost(run_id)
                    if error is None:
                        retries[run_id] += 1
                        todo.appendleft(run)
                    else:
                        item = Message("error", run_id, error)
                        progress.follow(item)
                        handle(item)
                    continue
                if isinstance(item, Worker):
                    progress.place(run_id, item)
                    continue
                progress.follow(item)
                handle(item)
                if item.kind in ("done", "error"):  # a task lost after this has no more to say
                    del in_flight[stream]
        finally:  # empty unless the driver failed or was interrupted: stop what it can't store
            for stream, run in in_flight.items():
                ray.cancel(stream, force=True)
                progress.lost(run.job.spec.run_id)

    def _lost(self, run: RunState, retries: int, exc: RayError) -> str | None:
        """Decide on a run whose task failed after ``retries`` resubmissions: None to submit
        it again, else the run's error message."""
        worker = run.where
        where = (f"worker {worker.pid} on {worker.ip} (node {worker.node})"
                 if worker else "a Ray worker")
        summary = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        if isinstance(exc, (RayTaskError, TaskUnschedulableError)):
            return f"{where} could not run the task: {summary}"
        if retries >= self.max_retries:
            return (f"{where} was lost with {run.rounds_done} rounds stored, after "
                    f"{retries} retries: {summary}")
        log.warning("%s: %s lost (%s); resubmitting from round %d (retry %d of %d)",
                    run.job.spec.label, where, summary, run.rounds_done, retries + 1,
                    self.max_retries)
        return None

    def _gpus(self, device: str) -> float:
        """The GPUs each run on ``device`` asks Ray for: ``gpus_per_run`` (default 1) when
        it should train on a GPU of the cluster (``cuda``, or ``auto`` on a cluster with
        GPUs), else 0."""
        if device != "auto" and device != "cpu" and not device.startswith("cuda"):
            raise ExecutorError(f"device must be auto, cpu or cuda[:N] with the Ray executor, "
                             f"got {device!r}")
        asked = f"gpus_per_run={self.gpus_per_run:g}" if self.gpus_per_run else None
        if device == "cpu":
            if asked:
                raise ExecutorError(f"{asked} asks for GPUs but the device is 'cpu'; use "
                                 f"--device auto or cuda, or leave out --gpus-per-run")
            return 0
        if ray.cluster_resources().get("GPU", 0) > 0:
            return self.gpus_per_run or 1
        if device == "auto" and not asked:
            return 0
        raise ExecutorError(f"device {device!r}{' with ' + asked if asked else ''} asks for a "
                         f"GPU but the Ray cluster has none; use --device cpu or auto"
                         f"{', without --gpus-per-run' if asked else ''}")


def check_gpus_per_run(value: float) -> None:
    """Raise ValueError unless ``value`` is a share Ray can give one task: a fraction in
    (0, 1] or a whole number of GPUs."""
    if not (math.isfinite(value) and value > 0 and (value <= 1 or value == int(value))):
        raise ValueError(f"gpus_per_run must be a fraction in (0, 1] or a whole number of "
                         f"GPUs, got {value:g}")


def _shared_datasets(jobs: list[Job]) -> dict[str, ray.ObjectRef]:
    """Each distinct dataset of ``jobs`` loaded once here and put in Ray's object store.

    A dataset that fails to load here is left out: its runs load it themselves and record
    the error as with any other executor.
    """
    shared = {}
    for job in jobs:
        key = dataset_key(job.spec)
        if key in shared:
            continue
        try:
            shared[key] = ray.put(load_job_dataset(job))
        except Exception as exc:  # noqa: BLE001 -- each run reports it (see docstring)
            log.warning("%s: dataset not shared, each run loads it (%s)", job.spec.label, exc)
            shared[key] = None
    return shared


def _submit(job: Job, num_gpus: float, dataset: ray.ObjectRef | None):
    if num_gpus and job.device.startswith("cuda"):
        job = replace(job, device="cuda")  # Ray picks the GPU and makes it the only one
    return _run.options(num_gpus=num_gpus).remote(job, dataset)
