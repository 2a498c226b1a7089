"""The DAL study's full protocol planned on paper: GPU-hours, wall time and store load.

For every run of the mnist-b10/b100/b1000 and cifar10-b1000/b5000/b10000 suites (every
strategy, the suites' 20 seeds), each round's cost is predicted from measured rounds:

- training: ``train_seconds`` of stored GPU records (default: the fmnist-gpu-b100 records,
  LeNet for 150 epochs on an H200 with runs sharing the GPU) fitted as ``a + b * labelled``;
  a run of a suite with E epochs costs E/150 of that. VGG-16 on CIFAR-10 was not measured on
  a GPU: its cost per example is LeNet's times the ratio of the two models' forward FLOPs
  (counted here with torch) - an extrapolation;
- querying: each strategy's mean ``query_seconds`` per round in those records (a strategy
  they lack borrows a measured one, listed in the output), scaled by the pool size and, for
  CIFAR-10, by the FLOP ratio too - an extrapolation for every strategy's query.

GPU-hours assume the runs share each GPU as in the measured records (``--runs-per-gpu``,
the count that ran at once there), so that each run's measured seconds hold. The store load
is the rounds written per second at that pace, against the store's write rate measured here
(``benchmarks.store_throughput``).
Wall time is a range: the work spread evenly (or the longest run) to that plus the longest run.

    python -m benchmarks.protocol_plan --gpus 1 8 --runs-per-gpu 14
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.store_throughput import rounds_per_second

SUITES = ["mnist-b10", "mnist-b100", "mnist-b1000",
          "cifar10-b1000", "cifar10-b5000", "cifar10-b10000"]
BORROWED = {"bayesian-least-confidence": "bald", "bayesian-entropy": "bald",
            "egl-study": "egl", "coreset-mip-study": "coreset", "dal-study": "dal"}
"""The measured strategy whose query cost stands in for one the records lack."""
MEASURED_POOL = 60000  # Fashion-MNIST's training set: the measured runs' pool


def measured(folder: Path) -> tuple[dict, np.ndarray, dict[str, float], str]:
    """Epochs, the training fit (a, b), mean query seconds per strategy and the device."""
    rows, queries, devices, epochs = [], defaultdict(list), set(), set()
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text())
        epochs.add(record["spec"]["training"]["epochs"])
        devices.add(record["environment"]["device"])
        for rnd in record["rounds"]:
            rows.append((rnd["labeled"], rnd["train_seconds"]))
            if rnd["queried"]:
                queries[record["spec"]["strategy"]].append(rnd["query_seconds"])
    (epoch_count,) = epochs
    labeled, seconds = np.array(rows, dtype=float).T
    fit = np.polyfit(labeled, seconds, 1)[::-1]  # (a, b)
    query = {name: statistics.fmean(values) for name, values in queries.items()}
    return {"epochs": epoch_count}, fit, query, ", ".join(sorted(devices))


def forward_flops(model: str, options: dict, shape: tuple[int, ...]) -> int:
    """FLOPs of one example's forward pass through a registered model."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from albench.plugins import get_plugins

    net = get_plugins().get("models", model).factory(shape, 10, **options).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(1, *shape))
    return counter.get_total_flops()


def plan(args) -> None:
    from albench.spec import load_suite

    base, fit, query, device = measured(Path(args.records))
    shapes = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
    pools = {"mnist": 60000, "cifar10": 50000}
    store_rate = rounds_per_second(args.store_rounds, queried=1000)
    print(f"measured: {args.records} ({device}), LeNet {base['epochs']} epochs: train "
          f"{fit[0]:.2f} s + {fit[1] * 1000:.2f} ms per labelled example a round")
    print("query seconds a round (measured, pool 60k): "
          + ", ".join(f"{k} {v:.2f}" for k, v in sorted(query.items())))
    print(f"store: {store_rate:.0f} rounds/s written (1000 indices a round, this machine)")
    lenet = forward_flops("lenet", {"variant": "study"}, shapes["mnist"])
    print(f"forward FLOPs per example: lenet {lenet:,}")
    totals = []
    for name in SUITES:
        suite = load_suite(name)
        setting = suite.settings[0]
        flops = forward_flops(setting.model, setting.model_options, shapes[setting.dataset])
        ratio = flops / lenet
        pool_ratio = pools[setting.dataset] / MEASURED_POOL
        run_seconds, rounds, borrowed, training = [], 0, set(), 0.0
        for spec in suite.run_specs(suite.strategies):
            strategy = spec.strategy if spec.strategy in query else BORROWED[spec.strategy]
            if strategy != spec.strategy:
                borrowed.add(f"{spec.strategy}<-{strategy}")
            seconds = 0.0
            for r in range(spec.rounds + 1):
                labeled = spec.initial_labeled + r * spec.batch_size
                train = (fit[0] + fit[1] * labeled * ratio) * spec.training.epochs / base["epochs"]
                training += train
                seconds += train + (query[strategy] * pool_ratio * ratio if r < spec.rounds
                                    else 0.0)
            run_seconds.append(seconds)
            rounds += spec.rounds + 1
        gpu_hours = sum(run_seconds) / args.runs_per_gpu / 3600
        totals.append((name, len(run_seconds), rounds, gpu_hours, max(run_seconds),
                       training / sum(run_seconds)))
        print(f"{name}: {setting.model} FLOPs x{ratio:.1f} LeNet"
              + (" (extrapolated)" if ratio != 1 else "")
              + (f"; queries borrowed: {', '.join(sorted(borrowed))}" if borrowed else ""))
    print(f"\n| suite | runs | rounds | GPU-hours ({args.runs_per_gpu} runs/GPU) | training "
          f"share | longest run (h) | "
          + " | ".join(f"wall on {n} GPUs (h)" for n in args.gpus) + " |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | "
          + " | ".join("---:" for _ in args.gpus) + " |")
    for name, runs, rounds, hours, longest, share in totals:
        print(f"| {name} | {runs} | {rounds:,} | {hours:,.1f} | {share:.0%} | "
              f"{longest / 3600:,.1f} | " + " | ".join(_wall(hours, longest, n)
                                                   for n in args.gpus) + " |")
    all_rounds = sum(t[2] for t in totals)
    all_hours = sum(t[3] for t in totals)
    longest = max(t[4] for t in totals)
    print(f"| all | {sum(t[1] for t in totals)} | {all_rounds:,} | {all_hours:,.1f} | | "
          f"{longest / 3600:,.1f} | "
          + " | ".join(_wall(all_hours, longest, n) for n in args.gpus) + " |")
    training = sum(t[3] * t[5] for t in totals) / all_hours
    cifar = sum(t[3] for t in totals if t[0].startswith("cifar10")) / all_hours
    print(f"training is {training:.1%} of all GPU-hours; the cifar10 suites {cifar:.1%}")
    for n in args.gpus:
        pace = all_rounds / (all_hours / n * 3600)
        print(f"on {n} GPUs: {pace:.3f} rounds/s to store on average "
              f"({pace / store_rate:.2%} of the measured write rate)")


def _wall(gpu_hours: float, longest: float, gpus: int) -> str:
    """Wall hours on ``gpus`` GPUs: at least the work spread evenly and the longest run, at
    most their sum (any greedy packing of runs finishes within it)."""
    low = max(gpu_hours / gpus, longest / 3600)
    return f"{low:,.1f}-{gpu_hours / gpus + longest / 3600:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="leaderboards/results/fmnist-gpu-b100")
    parser.add_argument("--runs-per-gpu", type=int, default=14,
                        help="runs that shared the GPU in the measured records")
    parser.add_argument("--gpus", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--store-rounds", type=int, default=400,
                        help="rounds written to time the store")
    plan(parser.parse_args())


if __name__ == "__main__":
    main()
