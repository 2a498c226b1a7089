"""The AL loop: protocol, determinism, resume, and validation of selections."""

import numpy as np
import pytest

from albench.executors import Job, LocalExecutor, run_messages
from albench.loop import (
    SelectionError,
    initial_labeled,
    iter_rounds,
    new_record,
    prepare,
    round_context,
    validate_selection,
)
from albench.plugins import Plugins, get_plugins
from albench.results import ResultStore
from albench.runner import run_specs
from albench.spec import load_suite


def _specs(tiny_suite, strategies=("random", "entropy")):
    return load_suite(tiny_suite).run_specs(list(strategies))


def _run(spec):
    run = prepare(spec, get_plugins(), "cpu")
    record = new_record(run)
    record.rounds.extend(iter_rounds(run, record))
    return record


def test_initial_set_is_shared_by_strategies_of_a_seed(tiny_suite):
    specs = _specs(tiny_suite)
    by_seed = {}
    for spec in specs:
        by_seed.setdefault(spec.seed, set()).add(tuple(initial_labeled(spec, 200)))
    assert all(len(sets) == 1 for sets in by_seed.values())
    assert by_seed[0] != by_seed[1]


def test_loop_follows_the_protocol(tiny_suite):
    spec = _specs(tiny_suite, ["entropy"])[0]
    record = _run(spec)
    assert [r.labeled for r in record.rounds] == [10, 15, 20, 25]
    assert [len(r.queried) for r in record.rounds] == [5, 5, 5, 0]
    queried = [i for r in record.rounds for i in r.queried]
    assert len(set(queried) | set(record.initial_labeled_idx)) == 25
    assert all(0 <= r.accuracy <= 1 for r in record.rounds)
    assert record.rounds[0].queried_class_counts and sum(record.rounds[0].queried_class_counts) == 5


def test_same_seeds_give_same_numbers(tiny_suite):
    spec = _specs(tiny_suite, ["random"])[0]
    first, second = _run(spec), _run(spec)
    assert [r.accuracy for r in first.rounds] == [r.accuracy for r in second.rounds]
    assert [r.queried for r in first.rounds] == [r.queried for r in second.rounds]


def test_training_leaves_global_random_state_alone(tiny_suite):
    import torch

    before = torch.random.get_rng_state().clone(), np.random.get_state()[1].copy()
    _run(_specs(tiny_suite, ["random"])[0])
    assert torch.equal(torch.random.get_rng_state(), before[0])
    assert np.array_equal(np.random.get_state()[1], before[1])


def test_resume_after_crash_gives_identical_results(tiny_suite, tmp_path):
    spec = _specs(tiny_suite, ["entropy"])[0]
    uninterrupted = _run(spec)

    store = ResultStore(tmp_path / "results")
    messages = run_messages(Job(spec, None, "cpu"))
    from albench.runner import Driver, RunSummary

    driver = Driver(store, [Job(spec, None, "cpu")], RunSummary(), progress=False)
    for message in messages:  # simulate a kill after round 1 is stored
        driver.handle(message)
        if message.kind == "round" and driver.runs[spec.run_id].rounds_done == 2:
            break
    stored = store.get(spec.run_id)
    assert stored.status == "running" and len(stored.rounds) == 2
    for rnd in stored.rounds:  # as if the first rounds ran on another machine
        rnd.device = "cuda:0 (elsewhere)"
    store.save(stored)

    summary = run_specs([spec], store, LocalExecutor(), device="cpu", progress=False)
    assert summary.completed == [spec.run_id]
    resumed = store.get(spec.run_id)
    assert resumed.status == "complete"
    devices = [r.device for r in resumed.rounds]
    assert devices[:2] == ["cuda:0 (elsewhere)"] * 2
    assert devices[2:] == [resumed.environment["device"]] * (len(devices) - 2)
    assert [r.accuracy for r in resumed.rounds] == [r.accuracy for r in uninterrupted.rounds]
    assert [r.queried for r in resumed.rounds] == [r.queried for r in uninterrupted.rounds]


def test_every_round_offers_the_first_querys_rng_as_the_run_rng(tiny_suite):
    run = prepare(_specs(tiny_suite, ["random"])[0], get_plugins(), "cpu")
    labeled = initial_labeled(run.spec, run.dataset.pool_size)
    first = round_context(run, None, labeled, 0).rng.random(4)
    for round_ in range(3):
        context = round_context(run, None, labeled, round_)
        context.run_rng().random(9)  # each call starts afresh
        assert np.array_equal(context.run_rng().random(4), first)
        assert np.array_equal(context.rng.random(4), first) == (round_ == 0)


def test_finished_runs_are_skipped_unless_forced(tiny_suite, tmp_path):
    spec = _specs(tiny_suite, ["random"])[0]
    store = ResultStore(tmp_path)
    assert run_specs([spec], store, LocalExecutor(), device="cpu", progress=False).completed
    again = run_specs([spec], store, LocalExecutor(), device="cpu", progress=False)
    assert again.skipped == [spec.run_id] and not again.completed
    forced = run_specs([spec], store, LocalExecutor(), force=True, device="cpu",
                       progress=False)
    assert forced.completed == [spec.run_id]


@pytest.mark.parametrize("selected, problem", [
    ([0, 1, 2], "returned 3 indices for a budget of 2"),
    ([5], "returned 1 indices"),
    ([5, 5], "duplicate"),
    ([5, 99], "outside the pool"),
    ([-1, 5], "outside the pool"),
    ([0, 5], "already-labelled"),
    ([5.0, 6.0], "float64 values"),
    (np.array([True, False]), "bool values"),
    ([[5, 6]], "one-dimensional"),
])
def test_bad_selections_name_the_strategy(selected, problem):
    labeled = np.zeros(10, dtype=bool)
    labeled[0] = True
    with pytest.raises(SelectionError, match=problem) as info:
        validate_selection(selected, 2, labeled, "strategy 'sloppy'")
    assert "'sloppy'" in str(info.value)


def test_good_selection_is_returned_as_int64():
    out = validate_selection(np.array([3, 1], dtype=np.int32), 2, np.zeros(5, bool), "ok")
    assert out.dtype == np.int64 and out.tolist() == [3, 1]


class _Greedy:
    """Returns the first unlabelled indices, plus one too many."""

    def select(self, context, budget):
        return context.unlabeled_idx[: budget + 1]


class _BadStrategyPlugin:
    from albench import hookimpl

    @staticmethod
    @hookimpl
    def albench_register_strategies(register):
        register("too-many", _Greedy)


def test_bad_strategy_marks_run_failed_and_keeps_others(tiny_suite, tmp_path, monkeypatch):
    import albench.plugins

    plugins = Plugins(extra_plugins=(("bad", _BadStrategyPlugin),), entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", plugins)
    specs = _specs(tiny_suite, ["too-many", "random"])
    store = ResultStore(tmp_path)
    summary = run_specs(specs, store, LocalExecutor(), device="cpu", progress=False)
    assert len(summary.failed) == 2 and len(summary.completed) == 2
    failed = store.get(specs[0].run_id)
    assert failed.status == "failed" and "'too-many'" in failed.error
    assert len(failed.rounds) == 0
    assert all(store.get(s.run_id).finished for s in specs if s.strategy == "random")


class _Noting:
    """Takes the first unlabelled examples and says so in the round's record."""

    def select(self, context, budget):
        context.note(f"took the first {budget}")
        return context.unlabeled_idx[:budget]


class _NotingPlugin:
    from albench import hookimpl

    @staticmethod
    @hookimpl
    def albench_register_strategies(register):
        register("noting", _Noting)


def test_strategy_notes_are_stored_with_their_round(tiny_suite, tmp_path, monkeypatch):
    import albench.plugins

    plugins = Plugins(extra_plugins=(("noting", _NotingPlugin),), entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", plugins)
    spec = _specs(tiny_suite, ["noting"])[0]
    store = ResultStore(tmp_path)
    run_specs([spec], store, LocalExecutor(), device="cpu", progress=False)
    rounds = store.get(spec.run_id).rounds
    assert [r.notes for r in rounds] == [["took the first 5"]] * 3 + [[]]
    assert '"notes"' not in rounds[-1].model_dump_json()  # records without notes unchanged
