"""coreset-mip-study on real embeddings: every solve of the study's binary search, timed.

Run: python plugins/albench-coreset/benchmarks/bench_mip_study.py --pool 5000 --threads 1
[--model lenet --labeled 1000 --epochs 2 --budget 1000 --time-limit 180]

Trains the model briefly on ``--labeled`` random Fashion-MNIST images of a ``--pool``-image
pool, times one entropy-sampling query, then runs one query and prints its ratio to entropy
and, per solve: the radius tried, HiGHS's outcome, the seconds spent building the covering
rows and solving, and the problem's size.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from albench_coreset.mip_study import study_outliers
from albench_coreset.strategies import CoreSetMIPStudy

from albench.testing import get_plugins
from albench.testing.bench import add_pool_options, context_from_options, timed_select


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_pool_options(parser, pool=5000, model="lenet", epochs=2)
    parser.add_argument("--time-limit", type=float, default=180.0, help="seconds per solve")
    args = parser.parse_args()
    context = context_from_options(args)
    entropy = get_plugins().get("strategies", "entropy").factory()
    _, entropy_seconds = timed_select(entropy, context, args.budget)
    print(f"outliers {study_outliers(context.dataset.pool_size)}, time limit "
          f"{args.time_limit:g} s per solve")
    print("| radius | outcome | build s | solve s | rows | nonzeros |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |", flush=True)

    def show(solve):
        print(f"| {solve.delta:.4g} | {solve.outcome} | {solve.build_seconds:.1f} "
              f"| {solve.solve_seconds:.1f} | {solve.rows} | {solve.nonzeros} |", flush=True)

    strategy = CoreSetMIPStudy(time_limit=args.time_limit, on_solve=show)
    start = time.perf_counter()
    picks = strategy.select(context, args.budget)
    seconds = time.perf_counter() - start
    search = strategy.last_search
    assert len(np.unique(picks)) == args.budget
    print(f"{len(search.solves)} solves, {seconds:.1f} s in all ({seconds / entropy_seconds:.1f}"
          f"x entropy's {entropy_seconds:.2f} s); radius bracket [{search.lower:.4g}, "
          f"{search.upper:.4g}]")
    for note in context.notes:
        print("note:", note)


if __name__ == "__main__":
    main()
