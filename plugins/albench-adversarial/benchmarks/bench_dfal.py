"""Time DFAL picking 1000 examples from Fashion-MNIST's 60k pool (prints seconds).

Usage: python bench_dfal.py [--pool 60000] [--budget 1000] [--model mlp|lenet]
       [--data DIR]
Also prints how many examples crossed the boundary.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from albench_adversarial.dfal import Dfal

from albench.testing.bench import add_pool_options, context_from_options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_pool_options(parser)
    parser.add_argument("--chunk-size", type=int, help="default: the device's inference batch")
    args = parser.parse_args()
    context = context_from_options(args)
    unlabeled = context.unlabeled_idx
    start = time.perf_counter()
    distances, crossed = Dfal(chunk_size=args.chunk_size).perturbations(context, unlabeled,
                                                                        args.budget)
    seconds = time.perf_counter() - start
    print(f"dfal {seconds:8.2f} s  ({1e3 * seconds / len(unlabeled):.3f} ms per unlabelled "
          f"example); {crossed.sum()} crossed, median distance "
          f"{np.median(distances[crossed]):.3f}")


if __name__ == "__main__":
    main()
