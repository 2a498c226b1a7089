"""Shared pieces of the benchmark suite: MNIST-shaped pools and a peak-memory probe."""

import threading
import time

import numpy as np
import psutil
import pytest
import torch

from albench.builtin.models import LeNet
from albench.training import Trainer, TrainingConfig
from albench.types import Dataset, QueryContext

POOL_SIZES = (10_000, 60_000)
BATCH_SIZES = (100, 1000)
N_LABELED = 1000


def mnist_shaped(pool_size: int, seed: int = 0) -> Dataset:
    """Random 28×28 uint8 images with 10 labels: MNIST's shape and cost, not its content."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(pool_size + 1000, 1, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=pool_size + 1000)
    return Dataset("mnist-shaped", x[:pool_size], y[:pool_size], x[pool_size:],
                   y[pool_size:], 10, scale=255.0, mean=(0.1307,), std=(0.3081,),
                   input_range=(0, 255))


def query_context(dataset: Dataset, seed: int = 0, device: str | None = None) -> QueryContext:
    """A context with a LeNet trained briefly on 1000 labels, as in round 1 of mnist-b1000."""
    config = TrainingConfig(epochs=2, batch_size=64)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    trainer = Trainer(dataset, LeNet, config, device)
    labeled = np.random.default_rng(seed).choice(dataset.pool_size, N_LABELED, replace=False)
    model = trainer.fit(dataset.x_pool[labeled], dataset.y_pool[labeled], seed).model
    mask = np.zeros(dataset.pool_size, bool)
    mask[labeled] = True
    return QueryContext(dataset=dataset, model=model, labeled_idx=labeled,
                        unlabeled_idx=np.flatnonzero(~mask), labeled_labels=dataset.y_pool[labeled],
                        rng=np.random.default_rng(seed), trainer=trainer)


class PeakMemory:
    """Peak resident memory above the starting point while the block runs (MB)."""

    def __enter__(self):
        self.process = psutil.Process()
        self.start = self.process.memory_info().rss
        self.peak = self.start
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak_mb = (self.peak - self.start) / 2**20


@pytest.fixture(scope="session", params=POOL_SIZES, ids=lambda n: f"pool{n // 1000}k")
def pool_context(request):
    return query_context(mnist_shaped(request.param))


def matmul_gflops(n: int = 2048, repeats: int = 5, device: str = "cpu") -> float:
    """This machine's (or ``device``'s) float32 matrix-multiply rate."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    if device != "cpu":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device != "cpu":
        torch.cuda.synchronize()
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def pytest_report_header(config):
    return f"float32 matmul: {matmul_gflops():.0f} GFLOP/s, torch threads {torch.get_num_threads()}"
