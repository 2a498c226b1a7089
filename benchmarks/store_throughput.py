"""Rounds per second the results store writes, as the driver does: each round arriving
appends to its run's record, and the whole record is saved.

    python -m benchmarks.store_throughput --rounds 2000 --queried 1000 --runs 20
"""

from __future__ import annotations

import argparse
import tempfile
import time

from albench.results import PluginRef, ResultStore, RoundRecord, RunRecord, now
from albench.spec import RunSpec


def rounds_per_second(rounds: int, queried: int, runs: int = 20) -> float:
    """Rounds stored per second, ``runs`` runs interleaved, ``queried`` indices a round."""
    per_run = -(-rounds // runs)
    records = []
    for seed in range(runs):
        spec = RunSpec(suite="store-throughput", suite_version=1, dataset="synthetic",
                       model="mlp", strategy="random", seed=seed, initial_labeled=10,
                       batch_size=queried, rounds=per_run - 1)
        records.append(RunRecord(
            run_id=spec.run_id, status="running", spec=spec,
            plugins={k: PluginRef(name=k, plugin="x", version="0") for k in ("dataset",)},
            environment={}, dataset_revision="r", initial_labeled_idx=list(range(10)),
            initial_class_counts=[10], started_at=now(), updated_at=now()))
    with tempfile.TemporaryDirectory() as directory:
        store = ResultStore(directory)
        start = time.perf_counter()
        written = 0
        for r in range(per_run):
            for record in records:
                first = 10 + r * queried
                new = list(range(first, first + queried)) if r < per_run - 1 else []
                record.rounds.append(RoundRecord(
                    round=r, labeled=first, accuracy=0.5, epochs=1, queried=new,
                    queried_class_counts=[len(new)] if new else [], train_seconds=1.0,
                    query_seconds=0.1, device="cpu", threads=1, determinism={}))
                store.save(record)
                written += 1
        return written / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--queried", type=int, default=1000, help="indices queried a round")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    rate = rounds_per_second(args.rounds, args.queried, args.runs)
    print(f"{rate:.0f} rounds/s ({args.runs} runs interleaved, {args.queried} indices a round)")


if __name__ == "__main__":
    main()
