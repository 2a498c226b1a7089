"""The reproducibility protocol: thread counts recorded and enforced, CUDA determinism flags,
and training's minimum number of optimizer steps."""

import numpy as np
import pytest
import torch

from albench import reproducibility
from albench.config import TrainingConfig
from albench.executors import LocalExecutor
from albench.results import ResultStore
from albench.runner import run_specs
from albench.spec import load_suite
from albench.training import Trainer, epoch_bounds, steps_per_epoch
from albench.types import Dataset


@pytest.fixture
def one_thread_after():
    yield
    torch.set_num_threads(1)


def test_every_round_records_threads_and_kernels(tiny_suite, tmp_path, one_thread_after):
    spec = load_suite(tiny_suite).run_specs(["random"], [0])[0]
    store = ResultStore(tmp_path)
    run_specs([spec], store, LocalExecutor(), device="cpu", progress=False, threads=2)
    record = store.get(spec.run_id)
    assert record.environment["torch_threads"] == "2"
    assert {r.threads for r in record.rounds} == {2}
    assert {str(r.determinism) for r in record.rounds} == {str({"kernels": "cpu"})}


def test_resume_under_another_thread_count_is_refused(tiny_suite, tmp_path, one_thread_after):
    spec = load_suite(tiny_suite).run_specs(["entropy"], [0])[0]
    store = ResultStore(tmp_path)
    run_specs([spec], store, LocalExecutor(), device="cpu", progress=False, threads=1)
    record = store.get(spec.run_id)
    record.rounds, record.status = record.rounds[:2], "running"
    store.save(record)
    refused = run_specs([spec], store, LocalExecutor(), device="cpu", progress=False,
                        threads=2)
    assert "computed with 1 torch thread(s), this process uses 2" in refused.failed[spec.run_id]
    assert "--threads 1" in refused.failed[spec.run_id]
    assert len(store.get(spec.run_id).rounds) == 2  # nothing mixed in
    # a new strategy of the seed may not start from a round 0 of another count either
    other = load_suite(tiny_suite).run_specs(["random"], [0])[0]
    refused = run_specs([other], store, LocalExecutor(), device="cpu", progress=False,
                        threads=2)
    assert "its shared round 0" in refused.failed[other.run_id]
    resumed = run_specs([spec], store, LocalExecutor(), device="cpu", progress=False,
                        threads=1)
    assert resumed.completed == [spec.run_id]


def test_older_records_without_counts_are_not_checked():
    reproducibility.check_threads(None, "cpu (x)", 4, "cpu (x)", "old round")
    reproducibility.check_threads(1, "cuda:0 (H200)", 4, "cpu (x)", "a GPU round")
    with pytest.raises(reproducibility.ProtocolError, match="--threads 1"):
        reproducibility.check_threads(1, "cpu (x)", 4, "cpu (y)", "a CPU round")


def test_cuda_determinism_flags_are_set_and_recorded(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = (torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    try:
        torch.backends.cudnn.benchmark = True
        reproducibility.configure(torch.device("cuda"), deterministic=True)
        assert reproducibility.determinism("cuda") == {
            "algorithms": "deterministic (warn where none)", "cudnn_deterministic": "true",
            "cudnn_benchmark": "false", "cublas_workspace_config": ":4096:8"}
        reproducibility.configure(torch.device("cuda"), deterministic=False)
        assert reproducibility.determinism("cuda")["algorithms"] == "default"
        assert reproducibility.determinism("cpu") == {"kernels": "cpu"}
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[2:]


def test_cpu_runs_leave_torch_determinism_alone():
    reproducibility.configure(torch.device("cpu"), threads=1, deterministic=True)
    assert not torch.are_deterministic_algorithms_enabled()


def test_steps_per_epoch_skips_lone_stragglers():
    config = TrainingConfig(batch_size=32)
    assert steps_per_epoch(config, 80) == 3
    assert steps_per_epoch(config, 65) == 2  # 32 + 32 + a straggler of 1
    assert steps_per_epoch(config, 1) == 1
    assert epoch_bounds(TrainingConfig(batch_size=32, epochs=20), 80) == (20, 0)
    assert epoch_bounds(TrainingConfig(batch_size=32, epochs=20, min_steps=450), 80) == \
        (150, 150)


def _blobs(n=80):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return Dataset("blobs", x, y, x[:10], y[:10], num_classes=2)


def _mlp(input_shape, num_classes):
    from albench.builtin.networks import MLP

    return MLP(input_shape, num_classes, hidden=8)


def test_min_steps_outlasts_epochs_and_patience():
    dataset = _blobs()
    config = TrainingConfig(epochs=2, batch_size=16, patience=1, val_fraction=0.2,
                            min_steps=40)
    fit = Trainer(dataset, _mlp, config).fit(dataset.x_pool, dataset.y_pool, seed=0)
    assert fit.epochs_run * steps_per_epoch(config, 64) >= 40
    plain = Trainer(dataset, _mlp, config.model_copy(update={"min_steps": 0}))
    assert plain.fit(dataset.x_pool, dataset.y_pool, seed=0).epochs_run <= 2


def test_min_steps_at_its_default_keeps_run_ids(tiny_suite):
    spec = load_suite(tiny_suite).run_specs(["random"], [0])[0]
    same = spec.model_copy(update={"training": TrainingConfig.model_validate(
        spec.training.model_dump())})
    assert same.run_id == spec.run_id
    more = spec.model_copy(update={"training": spec.training.model_copy(
        update={"min_steps": 100})})
    assert more.run_id != spec.run_id


@pytest.mark.parametrize("name", ["fmnist-b10", "fmnist-b100", "fmnist-b1000"])
def test_cpu_fashion_suites_fix_threads_seeds_and_steps(name):
    suite = load_suite(name)
    assert suite.threads == 1 and len(suite.seeds) >= 10
    assert suite.training.min_steps >= 450 and suite.version >= 2


def test_the_main_job_runs_on_the_committed_thread_count():
    assert load_suite("quick").threads == 1
