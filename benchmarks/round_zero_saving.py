"""What sharing round 0 saves: seconds per run with and without it, one seed, one thread.

For one seed of a suite's setting and a few strategies, times the round-0 training once,
then each strategy's whole run started from that shared model and (unless ``--shared-only``)
the same run training its own round 0, as before round 0 was shared. Prints seconds and the
runs-per-hour ratio for the strategies given. Run::

    python -m benchmarks.round_zero_saving quick -s random -s margin -s entropy
    python -m benchmarks.round_zero_saving fmnist-b100 -s random -s margin --shared-only

Seconds are wall-clock on a possibly shared machine: compare them within one invocation.
"""

from __future__ import annotations

import argparse
import time

import torch

from albench.loop import iter_rounds, load_dataset, new_record, prepare
from albench.plugins import get_plugins
from albench.round_zero import train_round_zero
from albench.spec import load_suite


def run_seconds(spec, plugins, dataset, round_zero=None) -> tuple[float, list[float]]:
    """Seconds of one whole run, and its accuracies."""
    start = time.perf_counter()
    run = prepare(spec, plugins, "cpu", dataset)
    record = new_record(run)
    record.rounds.extend(iter_rounds(run, record, round_zero=round_zero))
    return time.perf_counter() - start, [r.accuracy for r in record.rounds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite")
    parser.add_argument("-s", "--strategy", dest="strategies", action="append", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shared-only", action="store_true",
                        help="skip the unshared runs (each costs the shared run plus round 0)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    plugins = get_plugins()
    specs = load_suite(args.suite).run_specs(args.strategies, [args.seed])
    dataset = load_dataset(specs[0], plugins)
    start = time.perf_counter()
    shared = train_round_zero(prepare(specs[0], plugins, "cpu", dataset))
    round_zero = time.perf_counter() - start
    print(f"{args.suite} seed {args.seed}: round 0 trained once in {round_zero:.1f} s "
          f"(accuracy {shared.record.accuracy:.4f})", flush=True)
    with_sharing, without = round_zero, 0.0
    for spec in specs:
        seconds, accuracies = run_seconds(spec, plugins, dataset, shared)
        with_sharing += seconds
        line = f"  {spec.strategy}: {seconds:.1f} s from the shared round 0"
        if not args.shared_only:
            alone, own = run_seconds(spec, plugins, dataset)
            without += alone
            line += f", {alone:.1f} s training its own (same accuracies: {own == accuracies})"
        print(line, flush=True)
    if args.shared_only:
        without = with_sharing - round_zero + len(specs) * round_zero
        print("  (without sharing: each run plus its own round 0, the same computation)")
    print(f"{len(specs)} runs: {without:.1f} s without sharing, {with_sharing:.1f} s with; "
          f"runs per hour x{without / with_sharing:.3f}")


if __name__ == "__main__":
    main()
