"""Attacks by hostile strategies on what they are given: each attack, then what must happen."""

import gc

import numpy as np
import pytest

import albench.plugins
from albench import hookimpl
from albench.executors import LocalExecutor
from albench.plugins import Plugins
from albench.results import ResultStore
from albench.runner import run_specs
from albench.spec import load_suite
from albench.types import Dataset

SEEN = {}


def _random_picks(context, budget):
    return context.rng.choice(context.unlabeled_idx, budget, replace=False)


class _Peeks:
    """Reads what it should not: the pool's labels and the test set (on pools over 500)."""

    def select(self, context, budget):
        if context.dataset.pool_size > 500:
            SEEN["y_pool"] = set(np.unique(context.dataset.y_pool).tolist())
            SEEN["x_test"] = context.dataset.x_test.size + context._trainer.dataset.x_test.size
        return _random_picks(context, budget)


class _WritesIntoViews:
    """Tries to write every array it is given."""

    def select(self, context, budget):
        for array in (context.dataset.x_pool, context.labeled_idx, context.labeled_labels,
                      context.unlabeled_idx):
            try:
                array[:1] = 0
            except ValueError:
                SEEN.setdefault("refused", 0)
                SEEN["refused"] += 1
        context.labeled_idx.flags.writeable = True  # a copy of its own: harmless
        context.labeled_idx[:] = 0
        return _random_picks(context, budget)


class _WritesThroughBase:
    """Flips the flag on the pool view's base and blanks the harness's pool."""

    def select(self, context, budget):
        base = context.dataset.x_pool.base
        base.flags.writeable = True
        base[:] = 0
        return _random_picks(context, budget)


class _RewritesTestSet:
    """Queries exactly like random but finds the harness's test set and rewrites it."""

    def select(self, context, budget):
        for thing in gc.get_objects():
            if isinstance(thing, Dataset) and thing.x_test.size:
                thing.x_test.flags.writeable = True
                thing.x_test[:] = 0
        return _random_picks(context, budget)


class _Hostile:
    @staticmethod
    @hookimpl
    def albench_register_strategies(register):
        register("peeks", _Peeks)
        register("writes-views", _WritesIntoViews)
        register("writes-base", _WritesThroughBase)
        register("rewrites-test", _RewritesTestSet)
        register("plain-random", lambda: type("R", (), {"select": staticmethod(
            lambda context, budget: _random_picks(context, budget))})())


@pytest.fixture
def hostile(monkeypatch):
    plugins = Plugins(extra_plugins=(("hostile-plugin", _Hostile),), entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", plugins)
    SEEN.clear()


def _specs(tiny_suite, strategies, n_pool=200):
    specs = load_suite(tiny_suite).run_specs(strategies, seeds=[0])
    return [s.model_copy(update={"dataset_options": {"n_pool": n_pool, "n_test": 100}})
            for s in specs]


def _accuracies(store, spec):
    return [r.accuracy for r in store.get(spec.run_id).rounds]


def test_strategies_see_no_pool_labels_and_no_test_set(hostile, tiny_suite, tmp_path):
    spec, = _specs(tiny_suite, ["peeks"], n_pool=600)
    summary = run_specs([spec], ResultStore(tmp_path), LocalExecutor(), device="cpu",
                        progress=False)
    assert summary.completed
    assert SEEN == {"y_pool": {-1}, "x_test": 0}


def test_written_views_change_nothing_the_loop_owns(hostile, tiny_suite, tmp_path):
    attack, reference = _specs(tiny_suite, ["writes-views", "plain-random"])
    store = ResultStore(tmp_path)
    summary = run_specs([attack, reference], store, LocalExecutor(), device="cpu",
                        progress=False)
    assert len(summary.completed) == 2
    assert SEEN["refused"] == 4 * attack.rounds  # every array is read-only
    assert _accuracies(store, attack) == _accuracies(store, reference)
    assert ([r.queried for r in store.get(attack.run_id).rounds]
            == [r.queried for r in store.get(reference.run_id).rounds])


@pytest.mark.filterwarnings("ignore::FutureWarning")  # gc walks into torch's deprecated names
@pytest.mark.parametrize("strategy, part", [
    ("writes-base", "pool inputs (x_pool)"),
    ("rewrites-test", "test inputs (x_test)"),
])
def test_tampering_with_the_harness_fails_the_run_naming_the_strategy(
        hostile, tiny_suite, tmp_path, strategy, part):
    spec, = _specs(tiny_suite, [strategy])
    store = ResultStore(tmp_path)
    summary = run_specs([spec], store, LocalExecutor(), device="cpu", progress=False)
    assert list(summary.failed) == [spec.run_id]
    record = store.get(spec.run_id)
    assert record.status == "failed" and len(record.rounds) == 0
    assert f"strategy {strategy!r} (plugin hostile-plugin) changed the harness's {part}" \
        in record.error
