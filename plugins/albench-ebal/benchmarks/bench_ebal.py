"""Query times of the deep-ensemble strategies on an MNIST-shaped random pool with LeNet.

    python plugins/albench-ebal/benchmarks/bench_ebal.py [--pool 10000] [--labeled 100]

A query trains ``members - 1`` models (the round model is member 0) and predicts the pool
with every member; it is timed sequentially and with ``parallel=2`` worker processes.
"""

from __future__ import annotations

import argparse
import time

from albench.testing import get_plugins
from albench.testing.bench import (
    add_pool_options,
    context_from_options,
    random_images,
    timed_select,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_pool_options(parser, pool=10_000, budget=10, labeled=100, model="lenet", epochs=50)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    context = context_from_options(args, random_images(args.pool))
    strategy = get_plugins().get("strategies", "ensemble-variation-ratios").factory
    for parallel in args.parallel:
        _, seconds = timed_select(strategy(members=args.members, parallel=parallel), context,
                                  args.budget)
        print(f"  ensemble-variation-ratios members={args.members} parallel={parallel}: "
              f"{seconds:.1f} s")
    start = time.perf_counter()
    context.predict_proba(context.unlabeled_idx)
    print(f"  of which predicting the pool with one member: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
