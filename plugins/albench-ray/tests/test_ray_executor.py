"""The Ray executor on a local 2-CPU Ray: a worker killed mid-run is resumed from its last
stored round, and every result equals the local executor's."""

import os
import signal
import time

import pytest
import ray
from albench_ray.executor import RayExecutor, Worker

from albench.executors import ExecutorError, Job, LocalExecutor, RunState
from albench.results import ResultStore, parse_record
from albench.runner import run_specs
from albench.spec import load_suite
from albench.testing import (
    executor_checks,
    get_plugins,
    parametrize_with_checks,
    write_tiny_suite,
)

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    path = write_tiny_suite(tmp_path_factory.mktemp("suite"), name="tiny-ray", epochs=3)
    return load_suite(path).run_specs(["random", "entropy"])


def outcomes(store: ResultStore) -> dict:
    return {record.run_id: (record.status,
                            [(r.accuracy, r.val_accuracy, r.queried) for r in record.rounds])
            for record in store.records()}


def test_registered():
    assert get_plugins().get("executors", "ray").factory(workers=2).workers == 2


def test_options_are_checked():
    with pytest.raises(ValueError, match="workers"):
        RayExecutor(workers=0)
    with pytest.raises(ValueError, match="num_cpus only applies"):
        RayExecutor(address="ray://head:10001", num_cpus=4)
    for share in (0, -0.5, 1.5, float("nan")):
        with pytest.raises(ValueError, match="fraction in"):
            RayExecutor(gpus_per_run=share)
    assert RayExecutor(gpus_per_run=2).gpus_per_run == 2


def test_lost_workers_are_retried_up_to_the_limit(specs):
    executor = RayExecutor(max_retries=1)
    run = RunState(Job(specs[0], None), where=Worker("ab12", "10.0.0.7", 4242))
    lost = ray.exceptions.WorkerCrashedError()
    assert executor._lost(run, 0, lost) is None
    run.where = Worker("ab12", "10.0.0.7", 4343)
    error = executor._lost(run, 1, lost)
    assert "worker 4343 on 10.0.0.7 (node ab12)" in error and "after 1 retries" in error
    assert "WorkerCrashedError" in error
    fresh = RunState(Job(specs[0], None))
    unschedulable = ray.exceptions.TaskUnschedulableError("node gone")
    assert "could not run" in executor._lost(fresh, 0, unschedulable)


def test_gpus_are_requested_only_where_the_cluster_has_them(local_ray):
    assert ray.cluster_resources().get("GPU", 0) == 0
    executor = RayExecutor()
    assert executor._gpus("cpu") == 0 and executor._gpus("auto") == 0
    with pytest.raises(ExecutorError, match="has none"):
        executor._gpus("cuda:0")
    with pytest.raises(ExecutorError, match="auto, cpu or cuda"):
        executor._gpus("mps")
    shared = RayExecutor(gpus_per_run=0.25)
    with pytest.raises(ExecutorError, match="gpus_per_run=0.25 asks for a GPU but the Ray "
                                            "cluster has none"):
        shared._gpus("auto")
    with pytest.raises(ExecutorError, match="device is 'cpu'"):
        shared._gpus("cpu")


def test_killed_worker_resumes_and_matches_local(local_ray, specs, tmp_path):
    local = ResultStore(tmp_path / "local")
    assert len(run_specs(specs, local, LocalExecutor(), progress=False).completed) == 4

    victim = specs[1].run_id
    store = ResultStore(tmp_path / "ray")
    executor = RayExecutor(workers=2)
    starts, killed = [], []
    original = executor.execute

    def execute(jobs, handle):
        def kill_after_first_round(message):
            handle(message)
            if message.run_id != victim:
                return
            if message.kind == "start":
                starts.append(parse_record(message.payload))
            if message.kind == "round" and not killed:
                killed.append(executor.running[victim].pid)
                os.kill(killed[0], signal.SIGKILL)
        original(jobs, kill_after_first_round)

    executor.execute = execute
    summary = run_specs(specs, store, executor, progress=False)

    assert not summary.failed
    assert sorted(summary.completed) == sorted(spec.run_id for spec in specs)
    assert len(killed) == 1 and len(starts) == 2
    assert len(starts[0].rounds) == 0 and len(starts[1].rounds) >= 1  # resumed, not redone
    assert outcomes(store) == outcomes(local)
    assert all(status == "complete" for status, _ in outcomes(store).values())
    node = ray.get_runtime_context().get_node_id()
    for record in store.records():
        entries = record.environment["ray_nodes"].split("; ")
        assert entries[0].startswith(node) and entries[0].endswith("from round 0")
        assert len(entries) == (2 if record.run_id == victim else 1)
    assert store.get(victim).environment["ray_nodes"].endswith(
        f"from round {len(starts[1].rounds)}")
    assert executor.running == {}
    assert ray.is_initialized()  # an instance the executor did not start is left running


def test_a_task_lost_after_its_run_ended_leaves_the_run_done(local_ray, specs, tmp_path,
                                                             monkeypatch):
    """A node may die between a run's last message and its task's end: the run is done,
    not resubmitted (which would report it done twice)."""
    from albench_ray import executor as module

    @ray.remote(num_returns="streaming", max_retries=0)
    def dies_after_the_run(job, dataset):
        yield module._here()
        yield from module.run_messages(job, dataset=dataset)
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(module, "_run", dies_after_the_run)
    store = ResultStore(tmp_path / "ray")
    summary = run_specs(specs[:1], store, RayExecutor(), progress=False)
    assert summary.completed == [specs[0].run_id] and not summary.failed
    assert store.get(specs[0].run_id).status == "complete"


@parametrize_with_checks(executor_checks(RayExecutor, "ray", workers=2))
def test_executor_conformance(local_ray, check):
    check()
