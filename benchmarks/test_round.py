"""One full AL round of mnist-b1000's shape (10k pool), broken down into its parts.

The harness's own overhead (seeding, masks, selection validation, the record and its SQLite
write) is what remains of the round's wall time after training, evaluation and the query.
"""

import time

from albench.builtin.networks import LeNet
from albench.builtin.strategies import UncertaintySampling
from albench.config import TrainingConfig
from albench.loop import PreparedRun, iter_rounds, new_record
from albench.results import PluginRef, ResultStore
from albench.scoring import entropy
from albench.spec import RunSpec
from albench.testing.bench import random_images
from albench.training import Trainer


def test_round_breakdown(benchmark, tmp_path, capsys):
    dataset = random_images(10_000)
    spec = RunSpec(suite="bench", dataset="mnist-shaped", model="lenet", strategy="entropy",
                   training=TrainingConfig(epochs=3, batch_size=64), initial_labeled=1000,
                   batch_size=1000, rounds=1, seed=0)
    trainer = Trainer(dataset, LeNet, spec.training, "cpu")
    refs = {k: PluginRef(name=k, plugin="bench", version="0") for k in
            ("dataset", "model", "strategy")}
    run = PreparedRun(spec, dataset, trainer, UncertaintySampling(entropy), refs)
    store = ResultStore(tmp_path)
    times = {}

    def one_round():
        record = new_record(run)
        start = time.perf_counter()
        round_record = next(iter_rounds(run, record))
        wall = time.perf_counter() - start
        record.rounds.append(round_record)
        start = time.perf_counter()
        store.save(record)
        save = time.perf_counter() - start
        start = time.perf_counter()
        trainer.accuracy(trainer.new_model(0), dataset.x_test, dataset.y_test)
        times["evaluate"] = time.perf_counter() - start
        times["train"] = round_record.train_seconds
        times["query"] = round_record.query_seconds
        times["harness"] = wall + save - times["train"] - times["query"] - times["evaluate"]

    benchmark.pedantic(one_round, rounds=1, iterations=1)
    total = sum(times.values())
    benchmark.extra_info.update({k: round(v, 4) for k, v in times.items()})
    benchmark.extra_info["harness_fraction"] = round(max(times["harness"], 0) / total, 5)
    with capsys.disabled():
        print("\nround breakdown: " + ", ".join(f"{k} {v:.3f}s ({v / total:.1%})"
                                                 for k, v in times.items()))
