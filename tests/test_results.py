"""The results store: validation on read, refusal of newer schemas and hand edits, claims."""

import json
import sqlite3

import pytest

from albench.executors import Job, LocalExecutor
from albench.record_files import read_store
from albench.results import (
    SCHEMA_VERSION,
    RecordError,
    ResultStore,
    StoreBusyError,
    parse_record,
)
from albench.runner import run_specs
from albench.spec import load_suite


@pytest.fixture
def stored(tiny_suite, tmp_path):
    spec = load_suite(tiny_suite).run_specs(["random"], seeds=[0])[0]
    store = ResultStore(tmp_path)
    run_specs([spec], store, LocalExecutor(), device="cpu", progress=False)
    return store, spec


def _raw(store, run_id):
    with sqlite3.connect(store.path) as db:
        return json.loads(db.execute("SELECT record FROM runs WHERE run_id=?",
                                     (run_id,)).fetchone()[0])


def test_record_round_trips(stored):
    store, spec = stored
    record = store.get(spec.run_id)
    assert record.finished and record.spec == spec
    assert parse_record(record.model_dump_json()) == record
    assert {"albench", "torch", "python"} <= set(record.environment)
    assert record.plugins["strategy"].name == "random"
    assert [r.device for r in record.rounds] == \
        [record.environment["device"]] * len(record.rounds)
    assert record.schema_version == SCHEMA_VERSION


def test_schema_1_records_are_read_and_upgraded_when_saved(stored):
    store, spec = stored
    data = _raw(store, spec.run_id)
    data["schema_version"] = 1
    for rnd in data["rounds"]:
        del rnd["device"]
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET record = ?, schema_version = 1 WHERE run_id = ?",
                   (json.dumps(data), spec.run_id))
    record = store.get(spec.run_id)
    assert record.schema_version == 1 and {r.device for r in record.rounds} == {None}
    store.save(record)
    assert _raw(store, spec.run_id)["schema_version"] == SCHEMA_VERSION
    with sqlite3.connect(store.path) as db:
        column = db.execute("SELECT schema_version FROM runs WHERE run_id = ?",
                            (spec.run_id,)).fetchone()[0]
    assert column == SCHEMA_VERSION


def test_newer_schema_is_refused_with_upgrade_hint(stored):
    store, spec = stored
    data = _raw(store, spec.run_id)
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(RecordError, match="newer albench.*upgrade"):
        parse_record(json.dumps(data))


@pytest.mark.parametrize("edit, problem", [
    (lambda d: d["spec"].update(seed=7), "spec was edited"),
    (lambda d: d["rounds"][1].update(accuracy=1.5), "accuracy"),
    (lambda d: d["rounds"][1]["queried"].append(d["initial_labeled_idx"][0]), "twice"),
    (lambda d: d["rounds"].pop(1), "stored at position"),
    (lambda d: d.update(status="complete", rounds=d["rounds"][:2]), "rounds missing"),
])
def test_hand_edited_records_are_refused(stored, edit, problem):
    store, spec = stored
    data = _raw(store, spec.run_id)
    edit(data)
    with pytest.raises(RecordError, match=problem):
        parse_record(json.dumps(data))


def test_corrupt_row_in_store_is_reported(stored):
    store, spec = stored
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET record = '{not json' WHERE run_id = ?", (spec.run_id,))
    with pytest.raises(RecordError, match="not valid JSON"):
        store.get(spec.run_id)


def test_a_live_claim_blocks_a_second_writer(stored, monkeypatch):
    store, spec = stored
    store.claim(spec.run_id)
    monkeypatch.setattr("albench.results.os.getpid", lambda: 1)  # another live process (init)
    with pytest.raises(StoreBusyError):
        store.claim(spec.run_id)


def test_a_dead_claim_is_taken_over(stored, monkeypatch):
    store, spec = stored
    monkeypatch.setattr("albench.results.os.getpid", lambda: 2**22 + 12345)  # no such process
    store.claim(spec.run_id)
    monkeypatch.undo()
    store.claim(spec.run_id)  # the owner is dead: no error
    assert Job(spec, None).spec == spec


def _truncated(record, rounds):
    return record.model_copy(update={"rounds": record.rounds[:rounds], "status": "running"})


def test_merge_adds_new_runs_and_extends_unfinished_ones(stored, tmp_path_factory):
    store, spec = stored
    record = store.get(spec.run_id)
    other = ResultStore(tmp_path_factory.mktemp("other"))
    other.merge([_truncated(record, 1)])
    assert other.get(spec.run_id).rounds == record.rounds[:1]

    report = other.merge(read_store(store.directory))
    assert report.extended == [spec.run_id] and other.get(spec.run_id) == record
    again = other.merge(read_store(store.path))
    assert again.unchanged == [spec.run_id] and not again.added + again.extended


def test_merge_never_replaces_rounds_with_different_ones(stored):
    store, spec = stored
    record = store.get(spec.run_id)
    rounds = [r.model_copy(update={"accuracy": 1 - r.accuracy}) for r in record.rounds]
    diverged = record.model_copy(update={"rounds": rounds})
    shorter = _truncated(record, 1)

    report = store.merge([diverged, shorter])
    assert report.conflicts == [spec.run_id] and report.unchanged == [spec.run_id]
    assert store.get(spec.run_id) == record


def test_merge_refuses_missing_and_foreign_stores(tmp_path):
    with pytest.raises(FileNotFoundError, match="no results store"):
        list(read_store(tmp_path))
    (tmp_path / "albench.sqlite").write_bytes(b"not a database at all, just some bytes" * 50)
    with pytest.raises(RecordError, match="not an albench results store"):
        list(read_store(tmp_path))
