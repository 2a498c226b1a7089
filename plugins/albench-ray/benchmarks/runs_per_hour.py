"""Runs per hour of ``albench run --executor ray`` with different worker counts.

Each worker count runs the same command into a fresh results directory for at most
``--budget`` seconds (then the driver is interrupted), and throughput is counted from the
store: finished rounds / rounds per run, so runs cut short still count for what they did.

    python plugins/albench-ray/benchmarks/runs_per_hour.py --workers 1 2 --budget 600
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from albench.results import ResultStore


def measure(workers: int, args) -> tuple[float, int, float]:
    """(seconds, runs complete, runs' worth of rounds) for one worker count."""
    results = Path(f"{args.results_prefix}{workers}")
    shutil.rmtree(results, ignore_errors=True)
    command = [sys.executable, "-m", "albench.cli", "run", "--all", "--suite", args.suite,
               "--seeds", args.seeds, "--executor", "ray", "--workers", str(workers),
               "--results", str(results), "--no-leaderboard", "--quiet"]
    start = time.perf_counter()
    process = subprocess.Popen(command)
    try:
        process.wait(timeout=args.budget)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        process.wait()
    seconds = time.perf_counter() - start
    records = list(ResultStore(results).records())
    complete = sum(record.finished for record in records)
    worth = sum(len(record.rounds) / (record.spec.rounds + 1) for record in records)
    return seconds, complete, worth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--suite", default="quick")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--budget", type=float, default=600, help="seconds per worker count")
    parser.add_argument("--results-prefix", default="/tmp/ray")
    args = parser.parse_args()
    rates = {}
    for workers in args.workers:
        seconds, complete, worth = measure(workers, args)
        rates[workers] = worth / seconds * 3600
        print(f"workers={workers}: {seconds:.0f} s, {complete} runs complete, "
              f"{worth:.2f} runs of rounds -> {rates[workers]:.1f} runs/hour", flush=True)
    base = rates[args.workers[0]]
    for workers, rate in rates.items():
        print(f"workers={workers}: {rate / base:.2f}x workers={args.workers[0]}")


if __name__ == "__main__":
    main()
