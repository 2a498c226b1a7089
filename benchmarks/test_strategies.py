"""Query time and peak memory of every installed strategy on MNIST-shaped pools.

Run: ``python -m pytest benchmarks/ --benchmark-columns=mean,rounds`` (add ``-k entropy`` to
pick strategies, ``-k pool10k`` to skip the 60k pools). Peak memory lands in ``extra_info``
(``--benchmark-json out.json``).
"""

import pytest

from albench.plugins import get_plugins
from benchmarks.conftest import BATCH_SIZES

STRATEGIES = get_plugins().names("strategies")


@pytest.mark.parametrize("budget", BATCH_SIZES, ids=lambda b: f"b{b}")
@pytest.mark.parametrize("name", STRATEGIES)
def test_query(benchmark, pool_context, name, budget):
    from benchmarks.conftest import PeakMemory

    strategy = get_plugins().get("strategies", name).factory()
    peaks = []

    def select():
        with PeakMemory() as memory:
            selected = strategy.select(pool_context, budget)
        peaks.append(memory.peak_mb)
        return selected

    selected = benchmark.pedantic(select, rounds=1, iterations=1)
    assert len(selected) == budget
    benchmark.extra_info["peak_mb"] = round(max(peaks), 1)
