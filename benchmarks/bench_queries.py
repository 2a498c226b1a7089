"""One query of each installed strategy on one MNIST-shaped pool, printed as it finishes.

The pytest-benchmark suite (``test_strategies.py``) covers the full grid of pools and batch
sizes; this script is for one cell of it on a machine you hold briefly (a GPU lease): each
row prints as soon as its query ends, a strategy that runs past ``--time-limit`` is reported
and skipped, and entropy sampling is timed first so every row carries its ratio to it.
Run: ``python -m benchmarks.bench_queries --pool 60000 --budget 1000 [--device cuda]``;
``--pool-data fashion-mnist`` uses real images (from albench's usual places or ``--data
DIR``, no download) instead of random pixels; ``-o 'NAME={"option": value}'`` adds a row for
a strategy with options. Random pixels are a worst case for some
kernels: CPU max pooling and BADGE's pruning both run slower on them than on real images.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from albench.loop import StrategyError, time_limit
from albench.plugins import get_plugins
from albench.testing.bench import POOL_DATA, benchmark_pool, timed_select, trained_context
from benchmarks.conftest import PeakMemory, matmul_gflops


def timed_query(name: str, context, budget: int, limit: float, options: dict | None = None
                ) -> tuple[float, float, float]:
    """Seconds, peak host MB and peak device MB of one ``select`` call (which returns host
    indices, so the device's work is done when it returns)."""
    strategy = get_plugins().get("strategies", name).factory(**(options or {}))
    cuda = context.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    with PeakMemory() as memory, time_limit(limit, f"strategy {name!r}"):
        try:
            _, seconds = timed_select(strategy, context, budget)
        except AssertionError as exc:
            raise StrategyError(f"strategy {name!r}: {exc}") from None
    device_mb = (torch.cuda.max_memory_allocated() - base) / 2**20 if cuda else 0.0
    return seconds, memory.peak_mb, device_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=60_000)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per query")
    parser.add_argument("-s", "--strategy", action="append", help="default: every one")
    parser.add_argument("-o", "--options", action="append", default=[], metavar="NAME=JSON",
                        help='a further row: strategy NAME with these options, e.g. '
                             'bald=\'{"masks": "per-example"}\'')
    parser.add_argument("--pool-data", choices=POOL_DATA, default="random",
                        help="random 28x28 pixels (default) or Fashion-MNIST's training set")
    parser.add_argument("--data", type=Path, help="Fashion-MNIST's data root (default: "
                                                  "albench's usual search)")
    args = parser.parse_args()

    names = args.strategy or get_plugins().names("strategies")
    rows = [("entropy", {})] + [(n, {}) for n in names if n != "entropy"]
    for item in args.options:
        name, _, options = item.partition("=")
        rows.append((name, json.loads(options)))
    print(f"torch {torch.__version__} on {args.device}"
          + (f" ({torch.cuda.get_device_name()})" if args.device == "cuda" else ""))
    print(f"float32 matmul: {matmul_gflops(device=args.device):.0f} GFLOP/s")
    dataset = benchmark_pool(args.pool_data, args.pool, args.data)
    context = trained_context(dataset, "lenet", 1000, device=args.device)
    print(f"{args.pool_data} pool {dataset.pool_size}, batch {args.budget}, "
          f"limit {args.time_limit:g} s per query\n")
    print("| strategy | seconds | × entropy | peak host MB | peak device MB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    entropy_seconds = None
    for name, options in rows:
        label = f"{name} {json.dumps(options)}" if options else name
        try:
            seconds, host_mb, device_mb = timed_query(name, context, args.budget,
                                                      args.time_limit, options)
        except StrategyError as exc:
            print(f"| {label} | — | — | — | — |  <!-- {exc} -->", flush=True)
            continue
        entropy_seconds = entropy_seconds or seconds
        print(f"| {label} | {seconds:.2f} | {seconds / entropy_seconds:.1f} | {host_mb:.0f} "
              f"| {device_mb:.0f} |", flush=True)


if __name__ == "__main__":
    main()
