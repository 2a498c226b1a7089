"""DAL's variants against entropy sampling: one query each on one Fashion-MNIST pool.

Run: python plugins/albench-dal/benchmarks/bench_dal_study.py --pool 60000 --labeled 100
--budget 100 --threads 1 [-s dal-study -s dal ...]

DAL's cost grows with the labelled count (each discriminator trains on 11 times as many
rows as are labelled), not with the pool, so ``--labeled`` and ``--budget`` set the scale.
Entropy sampling runs first; every row carries its ratio to it, measured in this process.
"""

from __future__ import annotations

import argparse

from albench.testing import get_plugins
from albench.testing.bench import add_pool_options, context_from_options, timed_select


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_pool_options(parser, model="lenet", epochs=2)
    parser.add_argument("-s", "--strategy", action="append", help="default: dal-study")
    args = parser.parse_args()
    context = context_from_options(args)
    print("| strategy | seconds | × entropy |")
    print("| --- | ---: | ---: |")
    entropy = None
    for name in ["entropy"] + (args.strategy or ["dal-study"]):
        strategy = get_plugins().get("strategies", name).factory()
        _, seconds = timed_select(strategy, context, args.budget)
        entropy = entropy or seconds
        print(f"| {name} | {seconds:.1f} | {seconds / entropy:.1f} |", flush=True)


if __name__ == "__main__":
    main()
