"""How much per-example MC-dropout masks change the Bayesian rules' picks.

For each rule, one trained LeNet, one pool: the top-``budget`` picks with one mask per pass
(albench's default) and with a fresh mask per example (the DAL study's), each with two
mask seeds. Prints the overlap of the two kinds of picks next to the overlap of two seeds
of the same kind (the noise floor), and the seconds each query took.
Run: ``python -m benchmarks.mc_masks_overlap --pool 10000 --budget 1000 --pool-data
fashion-mnist``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from albench.plugins import get_plugins
from albench.testing.bench import POOL_DATA, benchmark_pool, trained_context


def picks(name: str, context, budget: int, masks: str, seed: int) -> tuple[set, float]:
    strategy = get_plugins().get("strategies", name).factory(masks=masks)
    start = time.perf_counter()
    chosen = strategy.select(replace(context, rng=np.random.default_rng(seed)), budget)
    return set(chosen.tolist()), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=10_000)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--pool-data", choices=POOL_DATA, default="fashion-mnist")
    parser.add_argument("--data", type=Path)
    args = parser.parse_args()
    context = trained_context(benchmark_pool(args.pool_data, args.pool, args.data), "lenet",
                              1000, device="cpu")
    print(f"{args.pool_data} pool {args.pool}, batch {args.budget}, LeNet (2 epochs on 1000)\n")
    print("| rule | per-pass vs per-example | per-pass seeds | per-example seeds "
          "| seconds per-pass | seconds per-example |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in ("bayesian-least-confidence", "bayesian-entropy"):
        (pass_a, t_pass), (pass_b, _) = (picks(name, context, args.budget, "per-pass", s)
                                         for s in (1, 2))
        (ex_a, t_ex), (ex_b, _) = (picks(name, context, args.budget, "per-example", s)
                                   for s in (1, 2))
        b = args.budget
        print(f"| {name} | {len(pass_a & ex_a) / b:.3f} | {len(pass_a & pass_b) / b:.3f} "
              f"| {len(ex_a & ex_b) / b:.3f} | {t_pass:.2f} | {t_ex:.2f} |", flush=True)


if __name__ == "__main__":
    main()
