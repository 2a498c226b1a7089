"""`albench verify`: a genuine record verifies; a hand-edited accuracy and a fabricated
record are caught."""

import json
import sqlite3

import pytest
from click.testing import CliRunner

from albench.cli import main
from albench.executors import LocalExecutor
from albench.results import ResultStore, parse_record
from albench.runner import run_specs
from albench.spec import load_suite


@pytest.fixture
def store(tiny_suite, tmp_path):
    store = ResultStore(tmp_path / "results")
    specs = load_suite(tiny_suite).run_specs(["random"], seeds=[0])
    assert run_specs(specs, store, LocalExecutor(), device="cpu", progress=False).completed
    return store


def _verify(store, *args):
    return CliRunner().invoke(main, ["verify", "--results", str(store.directory), "--sample",
                                     "0", *args])


def test_a_genuine_record_verifies(store):
    result = _verify(store)
    assert result.exit_code == 0, result.output
    assert "rounds [0, 1, 2, 3] match" in result.output
    assert "1 verified, 0 differ or are invalid" in result.output


def test_strategy_picks_the_runs_verified(store):
    result = _verify(store, "-s", "random")
    assert result.exit_code == 0, result.output
    assert "1 verified" in result.output
    result = _verify(store, "-s", "entropy")
    assert result.exit_code != 0
    assert "no stored run of entropy in" in result.output


def test_a_hand_edited_accuracy_is_caught(store):
    [record] = store.records()
    stored = record.rounds[2].accuracy
    with sqlite3.connect(store.path) as db:
        data = json.loads(db.execute("SELECT record FROM runs").fetchone()[0])
        data["rounds"][2]["accuracy"] = 0.99
        db.execute("UPDATE runs SET record = ?", (json.dumps(data),))
    result = _verify(store)
    assert result.exit_code == 1
    assert f"round 2: accuracy stored 0.99, recomputed {stored:.6g}" in result.output
    assert "round 1:" not in result.output and "round 3:" not in result.output


def test_a_fabricated_record_is_caught(store):
    [genuine] = store.records()
    spec = genuine.spec.model_copy(update={"strategy": "entropy"})
    data = json.loads(genuine.model_dump_json())
    data.update(spec=json.loads(spec.model_dump_json()), run_id=spec.run_id)
    fabricated = parse_record(json.dumps(data))  # valid in form: only recomputing tells
    store.save(fabricated)
    result = _verify(store, "--seed", "0")
    assert result.exit_code == 1
    assert f"DIFFERS {spec.run_id} (tiny:blobs/mlp/b5:entropy:seed0): round 0: queried " \
        "indices differ" in result.output
    assert f"ok {genuine.run_id}" in result.output


def test_each_record_is_recomputed_at_the_thread_count_it_records(store, monkeypatch):
    import torch

    from albench import verify
    from albench.plugins import get_plugins

    [record] = store.records()
    assert verify.computed_threads(record) == record.rounds[0].threads
    three = record.model_copy(update={"rounds": [r.model_copy(update={"threads": 3})
                                                 for r in record.rounds]})
    seen = []
    real = verify.iter_rounds

    def spy(run, before):
        seen.append(torch.get_num_threads())
        return real(run, before)

    monkeypatch.setattr(verify, "iter_rounds", spy)
    before = torch.get_num_threads()
    verify.verify_record(three, [1], get_plugins())
    assert seen == [3] and torch.get_num_threads() == before
    verify.verify_record(three, [1], get_plugins(), threads=2)
    assert seen == [3, 2]


def test_a_record_without_a_thread_count_uses_its_environment_or_one(store):
    from albench.verify import computed_threads

    [record] = store.records()
    bare = record.model_copy(update={"rounds": [r.model_copy(update={"threads": None})
                                                for r in record.rounds]})
    assert computed_threads(bare.model_copy(update={"environment": {"torch_threads": 4}})) == 4
    assert computed_threads(bare.model_copy(update={"environment": {}})) == 1


def test_a_folder_of_record_files_verifies_without_writing_to_it(store, tmp_path):
    folder = tmp_path / "records"
    assert CliRunner().invoke(main, ["export", "--results", str(store.directory), "--out",
                                     str(folder)]).exit_code == 0
    before = sorted(folder.rglob("*"))
    result = CliRunner().invoke(main, ["verify", "--results", str(folder), "--sample", "1"])
    assert result.exit_code == 0, result.output
    assert "1 verified, 0 differ or are invalid" in result.output
    assert sorted(folder.rglob("*")) == before
