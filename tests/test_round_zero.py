"""Shared round 0: trained once per seed, stored with its weights, every strategy's start."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load, save

from albench.executors import Job, LocalExecutor, run_messages
from albench.loop import iter_rounds, new_record, prepare
from albench.plugins import get_plugins
from albench.results import ResultStore, RoundRecord, read_round_zeros
from albench.round_zero import RoundZero, RoundZeroError, round_zero_key, weights_bytes
from albench.runner import Driver, RunSummary, run_specs
from albench.spec import load_suite
from albench.training import Trainer


@pytest.fixture
def specs(tiny_suite):
    return load_suite(tiny_suite).run_specs(["random", "entropy"])


@pytest.fixture
def fits(monkeypatch):
    """Counts every model trained in this process."""
    calls = []
    original = Trainer.fit

    def counting(self, x_raw, y, seed):
        calls.append(len(y))
        return original(self, x_raw, y, seed)

    monkeypatch.setattr(Trainer, "fit", counting)
    return calls


def _unshared(spec):
    """The run as computed before round 0 was shared: every round trained in the run."""
    run = prepare(spec, get_plugins(), "cpu")
    record = new_record(run)
    record.rounds.extend(iter_rounds(run, record))
    return record


def _outcome(record):
    return [(r.accuracy, r.val_accuracy, r.epochs, r.queried) for r in record.rounds]


def test_key_ignores_the_strategy_and_the_queries_only(specs):
    by_seed = {spec.seed: {round_zero_key(s) for s in specs if s.seed == spec.seed}
               for spec in specs}
    assert all(len(keys) == 1 for keys in by_seed.values())
    assert by_seed[0] != by_seed[1]
    spec = specs[0]
    assert round_zero_key(spec.model_copy(update={"batch_size": 7, "rounds": 9})) == \
        round_zero_key(spec)
    changed = spec.model_copy(update={"training": spec.training.model_copy(
        update={"epochs": 6})})
    assert round_zero_key(changed) != round_zero_key(spec)


def test_strategies_of_a_seed_share_one_bit_identical_round_zero(specs, tmp_path, fits):
    store = ResultStore(tmp_path)
    summary = run_specs(specs, store, LocalExecutor(), device="cpu", progress=False)
    assert len(summary.completed) == len(specs) == 4
    # 2 round-0 models (one per seed), then rounds 1..3 of each of the 4 runs
    assert fits.count(10) == 2 and len(fits) == 2 + 4 * 3

    records = list(store.records())
    for seed in (0, 1):
        mine = [r for r in records if r.spec.seed == seed]
        key = round_zero_key(mine[0].spec)
        stored, weights = store.get_round_zero(key)
        assert {r.round_zero for r in mine} == {key}
        assert {r.rounds[0].accuracy for r in mine} == {stored.accuracy}
        assert {(r.rounds[0].epochs, r.rounds[0].val_accuracy) for r in mine} == \
            {(stored.epochs, stored.val_accuracy)}
        # the stored weights are those of a model trained the old way, bit for bit
        run = prepare(mine[0].spec, get_plugins(), "cpu")
        model = RoundZero(stored, weights).load_model(run.trainer, 0)
        for name, tensor in model.state_dict().items():
            assert torch.equal(tensor, _round_zero_model(mine[0].spec).state_dict()[name])
    # and every run equals the run that trained its own round 0
    for record in records:
        assert _outcome(record) == _outcome(_unshared(record.spec))


def _round_zero_model(spec):
    from albench.seeds import MODEL, derived_seed, initial_labeled

    run = prepare(spec, get_plugins(), "cpu")
    idx = initial_labeled(spec, run.dataset.pool_size)
    return run.trainer.fit(run.dataset.x_pool[idx], run.dataset.y_pool[idx],
                           derived_seed(spec.seed, MODEL, 0)).model


def test_runs_start_from_the_stored_weights(specs, tmp_path):
    store = ResultStore(tmp_path)
    random_runs = [s for s in specs if s.strategy == "random"]
    run_specs(random_runs, store, LocalExecutor(), device="cpu", progress=False)
    key = round_zero_key(specs[0])
    stored, _ = store.get_round_zero(key)
    state = {name: torch.zeros_like(t) for name, t in
             _round_zero_model(specs[0]).state_dict().items()}
    zeros = save(state)  # a round 0 whose model predicts one class for everything
    stored.weights_sha256 = hashlib.sha256(zeros).hexdigest()
    store.save_round_zero(stored, zeros)
    entropy = next(s for s in specs if s.strategy == "entropy" and s.seed == 0)
    job = Job(entropy, None, "cpu", round_zero=RoundZero(*store.get_round_zero(key)))
    messages = [m for m in run_messages(job) if m.kind == "round"]
    first = RoundRecord.model_validate_json(messages[0].payload)
    # a zero model gives uniform probabilities: entropy ties everywhere and takes the
    # lowest unlabelled indices, which it does for no trained model
    run = prepare(entropy, get_plugins(), "cpu")
    unlabeled = np.setdiff1d(np.arange(run.dataset.pool_size),
                             new_record(run).initial_labeled_idx)
    assert sorted(first.queried) == unlabeled[:5].tolist()


def test_tampered_weights_are_refused(specs, tmp_path):
    store = ResultStore(tmp_path)
    run_specs(specs[:1], store, LocalExecutor(), device="cpu", progress=False)
    stored, weights = store.get_round_zero(round_zero_key(specs[0]))
    run = prepare(specs[0], get_plugins(), "cpu")
    with pytest.raises(RoundZeroError, match="checksum"):
        RoundZero(stored, weights[:-1] + b"x").load_model(run.trainer, 0)


def test_resumed_run_whose_round_zero_another_process_trained(specs, tiny_suite, tmp_path):
    results = tmp_path / "results"
    entropy = next(s for s in specs if s.strategy == "entropy" and s.seed == 0)
    uninterrupted = _unshared(entropy)

    # another process trains seed 0's round 0 (running random)
    command = "from albench.cli import cli_entry; cli_entry()"
    done = subprocess.run(
        [sys.executable, "-c", command, "run", "-s", "random", "--seeds", "0", "--suite",
         str(tiny_suite), "--results", str(results), "--device", "cpu",
         "--threads", "1", "--quiet", "--no-leaderboard"],
        check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    store = ResultStore(results)
    assert store.get_round_zero(round_zero_key(entropy)) is not None

    # this process starts entropy from it and is killed after round 1 is stored
    summary = RunSummary()
    shared = RoundZero(*store.get_round_zero(round_zero_key(entropy)))
    job = Job(entropy, None, "cpu", round_zero=shared)
    driver = Driver(store, [job], summary, progress=False)
    for message in run_messages(job):
        driver.handle(message)
        if message.kind == "round" and driver.runs[entropy.run_id].rounds_done == 2:
            break
    assert len(store.get(entropy.run_id).rounds) == 2

    resumed = run_specs([entropy], store, LocalExecutor(), device="cpu", progress=False)
    assert resumed.completed == [entropy.run_id]
    assert _outcome(store.get(entropy.run_id)) == _outcome(uninterrupted)


def test_force_trains_round_zero_again_once(specs, tmp_path, fits):
    store = ResultStore(tmp_path)
    seed0 = [s for s in specs if s.seed == 0]
    run_specs(seed0, store, LocalExecutor(), device="cpu", progress=False)
    before = store.get_round_zero(round_zero_key(seed0[0]))
    fits.clear()
    forced = run_specs(seed0, store, LocalExecutor(), force=True, device="cpu", progress=False)
    assert len(forced.completed) == 2
    assert fits.count(10) == 1  # one round 0 for both strategies
    after = store.get_round_zero(round_zero_key(seed0[0]))
    assert after[1] == before[1] and after[0].accuracy == before[0].accuracy


def test_merge_copies_round_zero_models(specs, tmp_path):
    from click.testing import CliRunner

    from albench.cli import main

    elsewhere = ResultStore(tmp_path / "elsewhere")
    run_specs(specs[:1], elsewhere, LocalExecutor(), device="cpu", progress=False)
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "elsewhere"), "--results",
                                       str(tmp_path / "here")])
    assert result.exit_code == 0, result.output
    assert "1 shared round-0 models added" in result.output
    here = ResultStore(tmp_path / "here")
    assert list(here.round_zeros()) == list(read_round_zeros(tmp_path / "elsewhere"))


def test_weights_are_safetensors_not_pickle(specs):
    model = _round_zero_model(specs[0])
    data = weights_bytes(model)
    assert b"pickle" not in data[:64] and data[:1] != b"\x80"
    assert set(load(data)) == set(model.state_dict())


def test_a_round_zero_claimed_by_another_process_is_waited_for(specs, tmp_path, fits):
    import os
    import socket
    import sqlite3
    import threading

    from albench.round_zero import ensure_round_zeros, round_zero_claim

    elsewhere = ResultStore(tmp_path / "elsewhere")
    run_specs(specs[:1], elsewhere, LocalExecutor(), device="cpu", progress=False)
    trained = elsewhere.get_round_zero(round_zero_key(specs[0]))
    store = ResultStore(tmp_path / "shared")
    with sqlite3.connect(store.path) as db:  # a live process (our parent) holds the claim
        db.execute("INSERT INTO claims (run_id, owner, seen) VALUES (?, ?, 0)",
                   (round_zero_claim(trained[0].key), f"{socket.gethostname()}:{os.getppid()}"))
    later = threading.Timer(1.0, store.save_round_zero, trained)
    later.start()
    fits.clear()
    outcome = ensure_round_zeros(specs[:1], store, LocalExecutor(),
                                 lambda spec: Job(spec, None, "cpu", train_round_zero=True),
                                 progress=False, poll_seconds=0.1)
    later.join()
    assert fits == [] and outcome.busy == set()
    assert outcome.ready[trained[0].key].weights == trained[1]
