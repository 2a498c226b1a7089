"""What a committed board cost to compute, from its records' measured round times.

For each suite: the runs, the CPU- (or GPU-) hours their rounds took (training and querying,
each shared round-0 model counted once), the wall hours at ``--workers`` runs at a time, and
the strategies that took the largest shares. The seconds are those the records measured, so
they include whatever else the machine was running then.

    python -m benchmarks.board_cost leaderboards/results --suite quick --workers 2
"""

from __future__ import annotations

import argparse
from collections import Counter

from albench.record_files import read_store


def board_cost(records) -> tuple[int, float, Counter, Counter]:
    """Runs, total seconds, seconds per strategy and runs per strategy of ``records``."""
    seconds, runs, shared_zeros = Counter(), Counter(), set()
    for record in records:
        runs[record.spec.strategy] += 1
        for round_ in record.rounds:
            cost = round_.train_seconds + (round_.query_seconds or 0.0)
            if round_.round == 0 and record.round_zero is not None:
                if record.round_zero in shared_zeros:
                    continue  # trained once for every strategy of the seed
                shared_zeros.add(record.round_zero)
            seconds[record.spec.strategy] += cost
    return sum(runs.values()), sum(seconds.values()), seconds, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a results directory or a folder of record files")
    parser.add_argument("--suite", action="append", help="only these suites (repeat)")
    parser.add_argument("--workers", type=int, default=2, help="runs at a time, for wall time")
    parser.add_argument("--top", type=int, default=5, help="strategies listed per suite")
    args = parser.parse_args()
    by_suite: dict[str, list] = {}
    for record in read_store(args.results):
        if record.status == "complete" and (not args.suite or record.spec.suite in args.suite):
            by_suite.setdefault(record.spec.suite, []).append(record)
    for suite, records in sorted(by_suite.items()):
        n, total, seconds, runs = board_cost(records)
        print(f"{suite}: {n} runs, {total / 3600:.2f} device-hours of rounds, "
              f"{total / 3600 / args.workers:.2f} h at {args.workers} workers, "
              f"{3600 * n / total * args.workers:.0f} runs/h")
        for strategy, spent in seconds.most_common(args.top):
            print(f"  {strategy}: {100 * spent / total:.1f}% ({runs[strategy]} runs, "
                  f"{spent / runs[strategy]:.0f} s a run)")


if __name__ == "__main__":
    main()
