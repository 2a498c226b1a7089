"""Round-0 test accuracy across seeds of one suite's setting: its spread and its cost.

Trains only round 0 (the initial labelled set) for each seed, one torch thread, and prints
accuracy, epochs, optimizer steps and seconds per seed, then mean, standard deviation and
seconds per training. ``--training`` overrides the suite's training settings (JSON), to try
a protocol before it goes into a suite file. Run::

    python -m benchmarks.round_zero_spread fmnist-b100 --seeds 0-9
    python -m benchmarks.round_zero_spread fmnist-b100 --training '{"min_steps": 450}'

Seconds are wall-clock on a possibly shared machine: compare them within one invocation.
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch

from albench.config import TrainingConfig
from albench.loop import load_dataset
from albench.plugins import get_plugins
from albench.seeds import MODEL, derived_seed, initial_labeled
from albench.spec import load_suite
from albench.training import Trainer, epoch_bounds, steps_per_epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite")
    parser.add_argument("--seeds", default="0-9", help="first-last, e.g. 0-9")
    parser.add_argument("--setting", type=int, default=0, help="index of the suite's setting")
    parser.add_argument("--training", default="{}", help="JSON overrides of the training")
    args = parser.parse_args()
    torch.set_num_threads(1)
    low, high = (int(v) for v in args.seeds.split("-"))
    plugins = get_plugins()
    suite = load_suite(args.suite)
    spec = suite.run_specs(["random"], [low])[args.setting]
    config = TrainingConfig.model_validate({**spec.training.model_dump(),
                                            **json.loads(args.training)})
    dataset = load_dataset(spec, plugins)
    factory = plugins.get("models", spec.model).factory
    trainer = Trainer(dataset, factory, config, "cpu", spec.model_options)
    n_train = spec.initial_labeled - round(config.val_fraction * spec.initial_labeled)
    print(f"{spec.setting}, {spec.initial_labeled} labels, training {config.model_dump()}")
    print(f"steps per epoch {steps_per_epoch(config, n_train)}, epochs (most, fewest) "
          f"{epoch_bounds(config, n_train)}")
    accuracies, seconds = [], []
    for seed in range(low, high + 1):
        idx = initial_labeled(spec.model_copy(update={"seed": seed}), dataset.pool_size)
        fit = trainer.fit(dataset.x_pool[idx], dataset.y_pool[idx],
                          derived_seed(seed, MODEL, 0))
        accuracy = trainer.accuracy(fit.model, dataset.x_test, dataset.y_test)
        accuracies.append(100 * accuracy)
        seconds.append(fit.seconds)
        print(f"seed {seed}: accuracy {100 * accuracy:.1f}%  epochs {fit.epochs_run}  "
              f"{fit.seconds:.1f} s", flush=True)
    print(f"round-0 accuracy {statistics.mean(accuracies):.2f} ± "
          f"{statistics.stdev(accuracies):.2f} (sd over {len(accuracies)} seeds), "
          f"{statistics.mean(seconds):.2f} s per training")


if __name__ == "__main__":
    main()
