"""--gpus-per-run on a local Ray with one fake GPU: every run gets the share it asked for,
and runs share the GPU (CUDA is absent, so with --device auto they compute on the CPU)."""

import pytest
import ray
from albench_ray.executor import RayExecutor

from albench.results import ResultStore
from albench.runner import run_specs
from albench.spec import load_suite

pytestmark = pytest.mark.slow

SUITE = """
name = "tiny-gpu-share"
seeds = [0, 1]
initial_labeled = 10
rounds = 2

[training]
epochs = 30
batch_size = 16

[[settings]]
dataset = "blobs"
dataset_options = {n_pool = 200, n_test = 100}
model = "mlp"
model_options = {hidden = 16}
batch_size = 5
"""


@pytest.fixture(scope="module")
def fake_gpu():
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    path = tmp_path_factory.mktemp("suite") / "tiny.toml"
    path.write_text(SUITE)
    return load_suite(path).run_specs(["random", "entropy"])


def most_in_flight(executor: RayExecutor, specs, store: ResultStore) -> int:
    """Run ``specs``; the most runs the driver saw in flight at once."""
    seen = [0]
    original = executor.execute

    def execute(jobs, handle):
        def count(message):
            seen[0] = max(seen[0], len(executor.running))
            handle(message)
        original(jobs, count)

    executor.execute = execute
    summary = run_specs(specs, store, executor, progress=False)
    assert not summary.failed and len(summary.completed) == len(specs)
    return seen[0]


def test_runs_share_one_gpu_in_the_fraction_asked(fake_gpu, specs, tmp_path):
    executor = RayExecutor(gpus_per_run=0.5)
    assert executor._gpus("auto") == 0.5 and executor._gpus("cuda:1") == 0.5
    store = ResultStore(tmp_path / "half")
    assert most_in_flight(executor, specs, store) == 2  # two CPUs, two halves of one GPU
    for record in store.records():
        assert record.environment["ray_nodes"].endswith(", 0.5 of GPU 0 from round 0")


def test_a_whole_gpu_per_run_runs_one_at_a_time(fake_gpu, specs, tmp_path):
    store = ResultStore(tmp_path / "whole")
    assert most_in_flight(RayExecutor(), specs, store) == 1
    for record in store.records():
        assert record.environment["ray_nodes"].endswith(", 1 of GPU 0 from round 0")

