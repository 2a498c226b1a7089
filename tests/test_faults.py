"""Attacks on the harness: kills, misbehaving strategies, a full disk, concurrent writers."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import albench.plugins
import albench.results
from albench import hookimpl
from albench.executors import LocalExecutor
from albench.plugins import Plugins
from albench.results import ResultStore, StoreError
from albench.runner import run_specs
from albench.spec import load_suite


def _albench(*args, **kwargs):
    command = "from albench.cli import cli_entry; cli_entry()"
    return subprocess.Popen([sys.executable, "-c", command, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)


def _living() -> dict[int, int]:
    """Every living (not zombie) process and its parent, read from Linux's /proc."""
    parents = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                state, parent = stat.read().rsplit(")", 1)[1].split()[:2]
        except OSError:
            continue
        if state != "Z":
            parents[int(entry)] = int(parent)
    return parents


def _descendants(pid: int) -> set[int]:
    parents, found, frontier = _living(), set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _snapshot(store):
    return {r.run_id: ([x.accuracy for x in r.rounds], [x.queried for x in r.rounds])
            for r in store.records()}


@pytest.fixture
def longer_suite(tiny_suite):
    text = tiny_suite.read_text().replace("rounds = 3", "rounds = 6")
    tiny_suite.write_text(text.replace('seeds = [0, 1]', 'seeds = [0]'))
    return tiny_suite


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_equals_uninterrupted(longer_suite, tmp_path):
    args = ["run", "--all", "--suite", str(longer_suite), "--quiet", "--no-leaderboard",
            "--device", "cpu"]
    reference = _albench(*args, "--results", str(tmp_path / "ref"))
    assert reference.wait(timeout=300) == 0, reference.stdout.read()

    killed_dir = tmp_path / "killed"
    victim = _albench(*args, "--results", str(killed_dir))
    kill_after = np.random.default_rng().integers(1, 6)  # a random round
    deadline = time.time() + 240
    while time.time() < deadline:
        stored = ResultStore(killed_dir).records() if (killed_dir / "albench.sqlite").exists() \
            else []
        if any(len(r.rounds) >= kill_after for r in stored):
            break
        time.sleep(0.05)
    workers = _descendants(victim.pid) if os.path.isdir("/proc") else set()
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    deadline = time.time() + 30  # its workers and their run processes end with it
    while workers and workers & set(_living()) and time.time() < deadline:
        time.sleep(0.1)
    assert not (workers and workers & set(_living())), "processes of the killed driver live on"
    partial = list(ResultStore(killed_dir).records())
    assert any(not r.finished for r in partial), "the run finished before it was killed"

    resumed = _albench(*args, "--results", str(killed_dir))
    assert resumed.wait(timeout=300) == 0, resumed.stdout.read()
    assert _snapshot(ResultStore(killed_dir)) == _snapshot(ResultStore(tmp_path / "ref"))


@pytest.mark.slow
def test_concurrent_writers_lose_nothing_and_duplicate_nothing(tiny_suite, tmp_path):
    args = ["run", "--all", "--suite", str(tiny_suite), "--quiet", "--no-leaderboard",
            "--device", "cpu", "--results", str(tmp_path / "shared")]
    first, second = _albench(*args), _albench(*args)
    outputs = [p.communicate(timeout=300)[0] for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    completed = sum(int(out.split(" completed")[0].split()[-1]) for out in outputs)
    store = ResultStore(tmp_path / "shared")
    records = list(store.records())
    assert len(records) == 4 and all(r.finished for r in records)
    assert completed == 4, outputs  # every run computed by exactly one process

    alone = _albench(*args[:-1], str(tmp_path / "alone"))
    assert alone.wait(timeout=300) == 0
    assert _snapshot(store) == _snapshot(ResultStore(tmp_path / "alone"))


class _Raises:
    def select(self, context, budget):
        raise RuntimeError("model exploded")


class _Hangs:
    def select(self, context, budget):
        while True:
            time.sleep(0.01)


class _NaNScores:
    def select(self, context, budget):
        scores = np.full(len(context.unlabeled_idx), np.nan)
        return np.argsort(scores)[:budget].astype(float)


class _FaultyPlugin:
    @staticmethod
    @hookimpl
    def albench_register_strategies(register):
        register("raises", _Raises)
        register("hangs", _Hangs)
        register("nan-scores", _NaNScores)


@pytest.fixture
def faulty(monkeypatch):
    plugins = Plugins(extra_plugins=(("faulty-plugin", _FaultyPlugin),), entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", plugins)


@pytest.mark.parametrize("strategy, message", [
    ("raises", "raised RuntimeError in round 0: model exploded"),
    ("hangs", "ran past its time limit of 0.5 s"),
    ("nan-scores", "float64 values"),
])
def test_misbehaving_strategy_fails_its_run_only(faulty, tiny_suite, tmp_path, strategy,
                                                 message):
    specs = load_suite(tiny_suite).run_specs([strategy, "random"], seeds=[0])
    store = ResultStore(tmp_path)
    summary = run_specs(specs, store, LocalExecutor(), device="cpu", progress=False,
                        query_timeout=0.5)
    bad = store.get(specs[0].run_id)
    assert bad.status == "failed" and message in bad.error
    assert f"strategy '{strategy}' (plugin faulty-plugin)" in bad.error
    assert summary.completed == [specs[1].run_id] and store.get(specs[1].run_id).finished


def test_full_disk_keeps_the_previous_records(tiny_suite, tmp_path, monkeypatch):
    done, victim = load_suite(tiny_suite).run_specs(["random"], seeds=[0, 1])
    victim = victim.model_copy(update={"batch_size": 60})  # a record that outgrows its page
    store = ResultStore(tmp_path)
    run_specs([done], store, LocalExecutor(), device="cpu", progress=False)
    before = store.get(done.run_id)
    with sqlite3.connect(store.path) as db:
        db.execute("VACUUM")  # no free pages left: the next growth needs a new page

    real_connect = sqlite3.connect

    def full_disk(*args, **kwargs):  # SQLite's own "database or disk is full"
        db = real_connect(*args, **kwargs)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        return db

    monkeypatch.setattr(albench.results.sqlite3, "connect", full_disk)
    # the claim or the record write fails first, depending on where the store needs a page
    with pytest.raises(StoreError, match="disk is full"):
        run_specs([victim], store, LocalExecutor(), device="cpu", progress=False)
    monkeypatch.undo()
    assert store.get(done.run_id) == before
    partial = store.get(victim.run_id)
    assert partial is None or not partial.finished  # whatever was stored is still valid


def test_suite_file_that_is_not_toml(tmp_path):
    from albench.spec import SuiteError

    bad = tmp_path / "broken.toml"
    bad.write_text(textwrap.dedent("""
        name = "broken
        [[settings]]
    """))
    with pytest.raises(SuiteError, match="broken.toml: not valid TOML"):
        load_suite(bad)
