"""The results store: validation on read, refusal of newer schemas and hand edits, claims."""

import json
import sqlite3
from pathlib import Path

import pytest

from albench.executors import Job, LocalExecutor
from albench.record_files import RecordFolder, read_store, record_text
from albench.results import (
    DB_NAME,
    MIGRATIONS,
    SCHEMA_VERSION,
    STORE_VERSION,
    RecordError,
    ResultStore,
    RoundRecord,
    RunRecord,
    StoreBusyError,
    StoreError,
    migrate,
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


OLD_RECORDS = Path(__file__).parent / "records"
"""Records as albench wrote them in schemas 1 and 2 (rows of the leaderboard store of then)."""
ADDED = {1: ({"device"}, set()), 2: ({"threads", "determinism"}, {"round_zero"})}
"""What each migration adds: fields of every round, fields of the run."""


def _old(version):
    return json.loads((OLD_RECORDS / f"schema-{version}.json").read_text())


def test_every_older_schema_has_one_migration_in_order():
    assert list(MIGRATIONS) == list(range(1, SCHEMA_VERSION))


@pytest.mark.parametrize("version", sorted(MIGRATIONS))
def test_a_migration_adds_its_schemas_fields_and_changes_nothing_else(version):
    before = _old(version)
    after = MIGRATIONS[version](_old(version))
    round_fields, run_fields = ADDED[version]
    assert set(after) - set(before) == run_fields
    for old, new in zip(before["rounds"], after["rounds"], strict=True):
        assert set(new) - set(old) == round_fields
        assert {k: new[k] for k in old} == old
    assert all(after[k] is None for k in run_fields)
    assert all(r[k] is None for r in after["rounds"] for k in round_fields)
    assert after["schema_version"] == version  # the schema it was written in


@pytest.mark.parametrize("version", sorted(MIGRATIONS))
def test_old_records_read_the_same_from_a_file_and_from_a_store(version, tmp_path):
    data = _old(version)
    record = parse_record(json.dumps(data))
    assert record.schema_version == version and record.round_zero is None
    assert {r.threads for r in record.rounds} == {None}
    assert {r.device is None for r in record.rounds} == {version == 1}
    folder = tmp_path / "files"
    (folder / record.spec.suite).mkdir(parents=True)
    (folder / record.spec.suite / f"{record.run_id}.json").write_text(json.dumps(data))
    assert list(RecordFolder(folder).records()) == [record]
    store = ResultStore(tmp_path / "store")
    with sqlite3.connect(store.path) as db:
        db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (record.run_id, record.spec.suite, record.spec.strategy, record.spec.seed,
                    record.status, version, json.dumps(data), record.updated_at))
    assert store.get(record.run_id) == record and list(store.records()) == [record]
    assert list(read_store(store.directory)) == [record]
    assert parse_record(record_text(record)) == record  # exported, it reads back the same


def test_old_records_are_upgraded_when_saved(tmp_path):
    store = ResultStore(tmp_path)
    record = parse_record(json.dumps(_old(1)))
    store.save(record)
    assert _raw(store, record.run_id)["schema_version"] == SCHEMA_VERSION
    with sqlite3.connect(store.path) as db:
        column = db.execute("SELECT schema_version FROM runs WHERE run_id = ?",
                            (record.run_id,)).fetchone()[0]
    assert column == SCHEMA_VERSION


def test_migrate_brings_every_old_schema_to_the_current_fields():
    current = set(RunRecord.model_fields) - {"error"}
    for version in MIGRATIONS:
        data = migrate(_old(version))
        assert current <= set(data), version
        assert all(set(RoundRecord.model_fields) - {"notes"} <= set(r) for r in data["rounds"])


def test_a_new_store_is_versioned_and_an_old_one_left_as_it_is(tmp_path):
    ResultStore(tmp_path / "new")
    with sqlite3.connect(tmp_path / "new" / DB_NAME) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == STORE_VERSION
        db.execute("PRAGMA user_version = 0")  # as a store made before versioning
    ResultStore(tmp_path / "new")
    with sqlite3.connect(tmp_path / "new" / DB_NAME) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0


def test_a_store_of_a_newer_albench_is_refused_with_upgrade_hint(stored):
    store, _ = stored
    with sqlite3.connect(store.path) as db:
        db.execute(f"PRAGMA user_version = {STORE_VERSION + 1}")
    for read in (lambda: ResultStore(store.directory), lambda: list(read_store(store.path))):
        with pytest.raises(StoreError, match="newer albench.*store version.*upgrade"):
            read()


def test_a_current_record_missing_a_field_is_refused(stored):
    store, spec = stored
    data = _raw(store, spec.run_id)
    del data["rounds"][0]["threads"]
    with pytest.raises(RecordError, match="rounds.0.threads"):
        parse_record(json.dumps(data))


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
