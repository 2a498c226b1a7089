"""pytest-benchmark: albench and the peer libraries scoring the same pools (the score-and-rank
cases of ``bench_peers.py``; its other cases take minutes and are timed once by the script).

Run: ``python -m pytest benchmarks/test_peers.py --benchmark-group-by=param:method`` (needs
the ``peers`` extra; one thread). Peak memory lands in ``extra_info``.
"""

import pytest
from threadpoolctl import threadpool_limits

from benchmarks.bench_peers import inputs, uncertainty_cases
from benchmarks.conftest import POOL_SIZES, PeakMemory

for module in ("baal", "batchbald_redux", "skactiveml"):
    pytest.importorskip(module, reason="peer libraries not installed: the `peers` extra")

BUDGET = 1000
CASE_NAMES = [(case.method, case.library) for case in uncertainty_cases(inputs(100), 10)]


@pytest.fixture(scope="module", params=POOL_SIZES, ids=lambda n: f"pool{n // 1000}k")
def cases(request):
    return {(case.method, case.library): case
            for case in uncertainty_cases(inputs(request.param), BUDGET)}


@pytest.mark.parametrize(("method", "library"), CASE_NAMES)
def test_peer_scoring(benchmark, cases, method, library):
    case = cases[method, library]
    with threadpool_limits(1):
        selected = benchmark.pedantic(case.run, rounds=3, iterations=1)
        with PeakMemory() as memory:  # apart from the timed rounds: the probe has a cost
            case.run()
    assert len(getattr(selected, "indices", selected)) == BUDGET
    benchmark.extra_info["peak_mb"] = round(memory.peak_mb, 1)
