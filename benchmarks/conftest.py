"""Shared pieces of the benchmark suite: pool contexts, a peak-memory probe, the matmul rate."""

import threading
import time

import psutil
import pytest
import torch

from albench.testing.bench import POOL_DATA, benchmark_pool, trained_context

POOL_SIZES = (10_000, 60_000)
BATCH_SIZES = (100, 1000)
N_LABELED = 1000


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


def pytest_addoption(parser):
    parser.addoption("--pool-data", choices=POOL_DATA, default="random",
                     help="pool images: random 28x28 pixels (default) or Fashion-MNIST "
                          "(from albench's usual places, no download)")


@pytest.fixture(scope="session", params=POOL_SIZES, ids=lambda n: f"pool{n // 1000}k")
def pool_context(request):
    """LeNet trained briefly on 1000 labels of an MNIST-shaped pool: round 1 of mnist-b1000.

    Random pixels are a worst case for some kernels (CPU max pooling, BADGE's pruning);
    ``--pool-data fashion-mnist`` times real images."""
    dataset = benchmark_pool(request.config.getoption("--pool-data"), request.param)
    return trained_context(dataset, "lenet", N_LABELED)


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
    return (f"float32 matmul: {matmul_gflops():.0f} GFLOP/s, torch threads "
            f"{torch.get_num_threads()}, pool data: {config.getoption('--pool-data')}")
