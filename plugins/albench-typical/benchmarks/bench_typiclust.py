"""Time TypiClust picking 1000 examples from Fashion-MNIST's 60k pool (prints seconds).

Usage: python bench_typiclust.py [--pool 60000] [--budget 1000] [--labeled 1000]
       [--representations embedding,raw] [--data DIR]
"""

from __future__ import annotations

import argparse

from albench_typical.typiclust import TypiClust

from albench.testing.bench import add_pool_options, context_from_options, timed_select


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_pool_options(parser)
    parser.add_argument("--representations", default="embedding,raw")
    args = parser.parse_args()
    context = context_from_options(args)
    for name in args.representations.split(","):
        _, seconds = timed_select(TypiClust(representation=name), context, args.budget)
        print(f"{name:10s} {seconds:8.2f} s  ({1e3 * seconds / len(context.unlabeled_idx):.3f} "
              f"ms per unlabelled example)")


if __name__ == "__main__":
    main()
