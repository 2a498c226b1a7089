"""Attacks on the results store: races, damaged files, a read-only disk, invalid records and a
plugin that changes directory. Each attack, then what must happen."""

import json
import os
import sqlite3

import pytest
from click.testing import CliRunner

import albench.plugins
import albench.results
from albench import hookimpl
from albench.cli import main
from albench.executors import LocalExecutor
from albench.plugins import Plugins
from albench.results import RecordError, ResultStore, StoreError
from albench.runner import run_specs
from albench.spec import load_suite


@pytest.fixture
def spec(tiny_suite):
    return load_suite(tiny_suite).run_specs(["random"], seeds=[0])[0]


def _run(specs, store, **options):
    return run_specs(specs, store, LocalExecutor(), device="cpu", progress=False, **options)


def test_a_run_finished_during_a_slow_claim_is_not_recomputed(spec, tmp_path, monkeypatch):
    elsewhere = ResultStore(tmp_path / "elsewhere")
    _run([spec], elsewhere)
    finished = elsewhere.get(spec.run_id)
    store = ResultStore(tmp_path / "shared")
    real_claim = ResultStore.claim

    def slow_claim(self, run_id, *args):  # another process finishes the run meanwhile
        self._write(finished)
        return real_claim(self, run_id, *args)

    monkeypatch.setattr(ResultStore, "claim", slow_claim)
    summary = _run([spec], store)
    assert summary.skipped == [spec.run_id] and not summary.completed
    assert store.get(spec.run_id) == finished


class _ChangesDirectory:
    def select(self, context, budget):
        os.chdir(os.environ["ALBENCH_TEST_ELSEWHERE"])
        return context.rng.choice(context.unlabeled_idx, budget, replace=False)


class _ChdirPlugin:
    @staticmethod
    @hookimpl
    def albench_register_strategies(register):
        register("changes-directory", _ChangesDirectory)


def test_a_plugin_that_changes_directory_cannot_move_the_store(tiny_suite, tmp_path,
                                                               monkeypatch):
    plugins = Plugins(extra_plugins=(("chdir-plugin", _ChdirPlugin),), entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", plugins)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("ALBENCH_TEST_ELSEWHERE", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    specs = load_suite(tiny_suite).run_specs(["changes-directory"], seeds=[0])
    store = ResultStore("results")  # relative, as the CLI's default
    assert store.path == tmp_path / "results" / "albench.sqlite"
    assert _run(specs, store).completed
    assert ResultStore(tmp_path / "results").get(specs[0].run_id).finished
    assert not (tmp_path / "elsewhere" / "results").exists()


def _cli_run(spec_suite, results):
    return CliRunner().invoke(main, ["run", "-s", "random", "--suite", str(spec_suite),
                                     "--seeds", "0", "--results", str(results),
                                     "--no-leaderboard", "--quiet", "--executor", "inline"])


@pytest.mark.parametrize("damage, message", [
    (lambda path: path.write_bytes(b"this is not a database at all" * 100),
     "file is not a database; the file is damaged or not an albench store; move it aside"),
    (lambda path: path.write_bytes(path.read_bytes()[:1500]),
     "the file is damaged or not an albench store; move it aside"),
    (lambda path: (path.unlink(), path.mkdir()),
     "it is a directory; remove it or choose another --results directory"),
])
def test_a_damaged_store_is_a_clean_error_naming_the_file(spec, tiny_suite, tmp_path, damage,
                                                          message):
    store = ResultStore(tmp_path / "results")
    _run([spec], store)
    damage(store.path)
    result = _cli_run(tiny_suite, tmp_path / "results")
    assert result.exit_code == 1
    assert f"Error: results store {store.path}: " in result.output
    assert message in result.output
    assert not isinstance(result.exception, (sqlite3.Error, AttributeError))


def test_a_store_turned_read_only_mid_run_reports_the_write_error(spec, tmp_path,
                                                                  monkeypatch):
    store = ResultStore(tmp_path)
    real_connect = sqlite3.connect
    connections = []

    def read_only_after_a_while(path, *args, **kwargs):  # like `chattr +i` mid-run
        connections.append(path)
        if len(connections) > 4:
            return real_connect(f"file:{path}?mode=ro", *args, uri=True, **kwargs)
        return real_connect(path, *args, **kwargs)

    monkeypatch.setattr(albench.results.sqlite3, "connect", read_only_after_a_while)
    # the write that fails may be the run's claim, its shared round 0 or a round of it
    with pytest.raises(StoreError, match="results store .*readonly database; check that the "
                       "file and its directory are writable"):
        _run([spec], store)


def _corrupt(store, run_id, accuracy=1.5):
    with sqlite3.connect(store.path) as db:
        data = json.loads(db.execute("SELECT record FROM runs WHERE run_id = ?",
                                     (run_id,)).fetchone()[0])
        data["rounds"][1]["accuracy"] = accuracy
        db.execute("UPDATE runs SET record = ? WHERE run_id = ?", (json.dumps(data), run_id))


def test_an_invalid_record_is_reported_and_the_rest_still_reports(tiny_suite, tmp_path):
    specs = load_suite(tiny_suite).run_specs(["random", "entropy"], seeds=[0])
    store = ResultStore(tmp_path / "results")
    _run(specs, store)
    _corrupt(store, specs[0].run_id)
    assert [r.run_id for r in store.records()] == [specs[1].run_id]
    assert "accuracy" in store.invalid[specs[0].run_id]
    result = CliRunner().invoke(main, ["leaderboard", "--results", str(tmp_path / "results"),
                                       "--out", str(tmp_path / "boards"), "--no-plots"])
    assert result.exit_code == 0, result.output
    assert f"warning: left out invalid record {specs[0].run_id}" in result.output
    assert "entropy" in (tmp_path / "boards" / "tiny.md").read_text()


def test_an_invalid_record_fails_its_run_until_forced_then_is_quarantined(spec, tmp_path):
    store = ResultStore(tmp_path)
    _run([spec], store)
    _corrupt(store, spec.run_id)
    summary = _run([spec], store)
    assert "--force` recomputes it" in summary.failed[spec.run_id]
    with pytest.raises(RecordError):
        store.get(spec.run_id)
    forced = _run([spec], store, force=True)
    assert forced.completed == [spec.run_id] and store.get(spec.run_id).finished
    with sqlite3.connect(store.path) as db:
        [(run_id, error)] = db.execute("SELECT run_id, error FROM quarantine").fetchall()
    assert run_id == spec.run_id and "accuracy" in error


def test_a_results_path_that_cannot_be_a_directory(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="cannot create the results directory"):
        ResultStore(tmp_path / "file" / "results")
