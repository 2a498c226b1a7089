"""Query times of the MC-dropout strategies on an MNIST-shaped random pool with LeNet.

The LeNet is trained for one epoch on 100 labels (``--labeled``, ``--epochs``).

    python plugins/albench-bald/benchmarks/bench_bald.py [--pool 10000] [--budget 10]
"""

from __future__ import annotations

import argparse

from albench.testing import get_plugins
from albench.testing.bench import (
    add_pool_options,
    context_from_options,
    random_images,
    timed_select,
)

STRATEGIES = ("bayesian-least-confidence", "variation-ratios", "bayesian-entropy", "bald",
              "batchbald")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_pool_options(parser, pool=10_000, budget=10, labeled=100, model="lenet", epochs=1)
    args = parser.parse_args()
    context = context_from_options(args, random_images(args.pool))
    for name in STRATEGIES:
        strategy = get_plugins().get("strategies", name).factory()
        _, seconds = timed_select(strategy, context, args.budget)
        print(f"  {name:27s} {seconds:7.1f} s  (default options)")


if __name__ == "__main__":
    main()
