"""Runs per hour of ``albench run`` with each executor and worker count, on the same runs.

Every (executor, workers) pair runs the same command, with one torch thread per run, into a
fresh results directory, until it finishes or ``--budget`` seconds pass (then the driver is
interrupted); throughput counts stored rounds, so a run cut short counts for what it did.
``local --workers N`` is N isolated processes like ``process``; ``ray`` starts a local Ray
with N CPUs. Ideal scaling is N times the same executor's one-worker rate.

Where the rest of the time goes, measured separately in this process:

- start-up: the same command once every run is stored (imports, plugins, store: the cost
  of every invocation, without starting the executor, which only starts for runs);
- dataset loading: one load of the suite's dataset, which each run of the ``local`` and
  ``process`` executors pays (the ``ray`` executor loads it once and shares it);
- serialisation: pickling a job with a full record, a round's JSON, and the dataset (what
  Ray copies into its object store once).

    python -m benchmarks.runs_per_hour --suite quick -s random -s entropy --seeds 0-3
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from albench.executors import Job
from albench.loop import load_dataset
from albench.plugins import get_plugins
from albench.results import ResultStore
from albench.spec import load_suite


def command(args, executor: str, workers: int, results: Path) -> list[str]:
    strategies = [part for name in args.strategies for part in ("-s", name)]
    return [sys.executable, "-m", "albench.cli", "run", "--suite", args.suite, *strategies,
            "--seeds", args.seeds, "--executor", executor, "--workers", str(workers),
            "--threads", "1", "--results", str(results), "--no-leaderboard", "--quiet"]


def measure(args, executor: str, workers: int) -> dict:
    """Seconds, runs' worth of rounds stored and compute seconds for one configuration."""
    results = Path(f"{args.results_prefix}-{executor}{workers}")
    shutil.rmtree(results, ignore_errors=True)
    start = time.perf_counter()
    process = subprocess.Popen(command(args, executor, workers, results))
    try:
        process.wait(timeout=args.budget)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        process.wait()
    seconds = time.perf_counter() - start
    records = list(ResultStore(results).records())
    worth = sum(len(r.rounds) / (r.spec.rounds + 1) for r in records)
    compute = sum(r.train_seconds + r.query_seconds for rec in records for r in rec.rounds)
    startup = None
    if records and all(r.finished for r in records):  # else the command would compute more
        startup = time.perf_counter()
        subprocess.run(command(args, executor, workers, results), check=True)
        startup = time.perf_counter() - startup
    return {"seconds": seconds, "worth": worth, "compute": compute, "startup": startup,
            "rounds": sum(len(r.rounds) for r in records)}


def fixed_costs(args) -> dict:
    """Per-task dataset load and serialisation costs, timed here."""
    suite = load_suite(args.suite)
    spec = suite.run_specs(args.strategies, [0])[0]
    plugins = get_plugins()
    start = time.perf_counter()
    dataset = load_dataset(spec, plugins)
    load = time.perf_counter() - start
    start = time.perf_counter()
    blob = pickle.dumps(dataset, protocol=5)
    pickle.loads(blob)
    dataset_pickle = time.perf_counter() - start
    job = Job(spec, None)
    start = time.perf_counter()
    for _ in range(100):
        pickle.loads(pickle.dumps(job))
    job_pickle = (time.perf_counter() - start) / 100
    return {"load": load, "dataset_pickle": dataset_pickle, "dataset_mb": len(blob) / 1e6,
            "job_pickle": job_pickle}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executors", nargs="+", default=["local", "process", "ray"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--suite", default="quick")
    parser.add_argument("-s", "--strategy", dest="strategies", action="append",
                        help="a strategy (repeat; default: random and entropy)")
    parser.add_argument("--seeds", default="0-3")
    parser.add_argument("--budget", type=float, default=3600,
                        help="seconds per configuration before the driver is interrupted")
    parser.add_argument("--results-prefix", default="/tmp/runs-per-hour")
    args = parser.parse_args()
    args.strategies = args.strategies or ["random", "entropy"]

    costs = fixed_costs(args)
    print(f"dataset: {costs['load']:.3f} s to load per task, {costs['dataset_mb']:.1f} MB, "
          f"{costs['dataset_pickle']:.3f} s to pickle and unpickle; a job pickles and "
          f"unpickles in {costs['job_pickle'] * 1e3:.2f} ms", flush=True)
    rates = {}
    for executor in args.executors:
        for workers in args.workers:
            m = measure(args, executor, workers)
            rate = rates[executor, workers] = m["worth"] / m["seconds"] * 3600
            busy = m["compute"] / (m["seconds"] * workers)
            print(f"{executor:8} workers={workers}: {m['seconds']:.1f} s, {m['worth']:.2f} "
                  f"runs ({m['rounds']} rounds) -> {rate:.1f} runs/hour; compute (train + "
                  f"query) fills {busy:.0%} of the workers' time; start-up "
                  + ("not measured (runs left)" if m["startup"] is None
                     else f"{m['startup']:.1f} s"), flush=True)
    print("ratio to ideal (N x the same executor's one-worker rate):")
    for (executor, workers), rate in rates.items():
        one = rates.get((executor, 1))
        if one:
            print(f"  {executor:8} workers={workers}: {rate / (one * workers):.2f}")


if __name__ == "__main__":
    main()
