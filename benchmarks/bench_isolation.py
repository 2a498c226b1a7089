"""The cost of isolation: seconds per run of the `quick` suite in a process of its own
(the default `local` executor) against in the driver's process (`inline`).

    python benchmarks/bench_isolation.py [--strategy random] [--seeds 2]

Both run in one process on one torch thread (`local` includes starting its worker once);
a busy machine slows both, so the ratio is the figure to read.
"""

import argparse
import subprocess
import sys
import tempfile
import time

import torch

from albench.executors import LocalExecutor, isolated_local
from albench.results import ResultStore
from albench.runner import run_specs
from albench.spec import load_suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", default="random")
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    specs = load_suite("quick").run_specs([args.strategy], list(range(args.seeds)))
    seconds = {}
    for name, executor in (("inline", LocalExecutor()), ("local", isolated_local())):
        with tempfile.TemporaryDirectory() as results:
            start = time.perf_counter()
            summary = run_specs(specs, ResultStore(results), executor, device="cpu",
                                progress=False)
            seconds[name] = time.perf_counter() - start
            assert len(summary.completed) == len(specs), summary.failed
    start = time.perf_counter()  # what a worker does once: import albench and its plugins
    imports = "import albench.loop; from albench.plugins import get_plugins; get_plugins()"
    subprocess.run([sys.executable, "-c", imports], check=True)
    startup = time.perf_counter() - start
    runs = len(specs)
    print(f"quick, {args.strategy}, {runs} runs: inline {seconds['inline'] / runs:.2f} s/run, "
          f"local (own process) {seconds['local'] / runs:.2f} s/run, ratio "
          f"{seconds['local'] / seconds['inline']:.3f}; the worker's start-up (imports) "
          f"{startup:.2f} s once, without it the ratio is "
          f"{(seconds['local'] - startup) / seconds['inline']:.3f}")


if __name__ == "__main__":
    main()
