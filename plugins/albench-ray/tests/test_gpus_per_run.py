"""--gpus-per-run on a local Ray with one fake GPU: every run gets the share it asked for,
and runs share the GPU (CUDA is absent, so with --device auto they compute on the CPU).

A task reports its worker first and pauses once two of its messages wait unread, so a task
whose first message was read and no more is still running, holding its share."""

import pytest
import ray
from albench_ray.executor import RayExecutor, Worker, _submit

from albench.executors import Job
from albench.results import ResultStore
from albench.runner import run_specs
from albench.spec import load_suite
from albench.testing import write_tiny_suite

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def fake_gpu():
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    path = write_tiny_suite(tmp_path_factory.mktemp("suite"), name="tiny-gpu-share",
                            rounds=2, epochs=30)
    return load_suite(path).run_specs(["random", "entropy"])


def first_messages(streams) -> list[Worker]:
    """The worker each task reports first; it then pauses, mid-run, holding its share."""
    return [ray.get(next(stream)) for stream in streams]


def test_runs_share_one_gpu_in_the_fraction_asked(fake_gpu, specs):
    executor = RayExecutor(gpus_per_run=0.5)
    assert executor._gpus("auto") == 0.5 and executor._gpus("cuda:1") == 0.5
    streams = [_submit(Job(spec, None), 0.5, None) for spec in specs[:2]]
    try:
        workers = first_messages(streams)  # each started while the other is paused mid-run
        assert len({worker.pid for worker in workers}) == 2
        assert all(w.gpu_ids == ("0",) and w.gpu_fraction == 0.5 for w in workers)
    finally:
        for stream in streams:
            ray.cancel(stream, force=True)


def test_a_whole_gpu_per_run_runs_one_at_a_time(fake_gpu, specs):
    first, second = (_submit(Job(spec, None), 1, None) for spec in specs[:2])
    try:
        (worker,) = first_messages([first])
        assert worker.gpu_ids == ("0",) and worker.gpu_fraction == 1
        ready, _ = ray.wait([second], timeout=5)
        assert not ready  # waiting for the GPU the first holds
        ray.cancel(first, force=True)
        (worker,) = first_messages([second])
        assert worker.gpu_ids == ("0",) and worker.gpu_fraction == 1
    finally:
        for stream in (first, second):
            ray.cancel(stream, force=True)


def test_records_name_the_gpu_share(fake_gpu, specs, tmp_path):
    store = ResultStore(tmp_path / "half")
    summary = run_specs(specs, store, RayExecutor(gpus_per_run=0.5), progress=False)
    assert not summary.failed and len(summary.completed) == len(specs)
    for record in store.records():
        assert record.environment["ray_nodes"].endswith(", 0.5 of GPU 0 from round 0")
