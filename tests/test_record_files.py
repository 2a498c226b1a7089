"""Run records as JSON text files: export, read back, merge all-or-nothing, JSON aggregates."""

import json

import pytest
from click.testing import CliRunner

from albench.cli import main
from albench.record_files import RecordFolder, record_text, write_record_files
from albench.report import write_leaderboard
from albench.results import RecordError, ResultStore
from tests.test_report_leaderboard import QUERIES, curve, make_record


@pytest.fixture()
def store(tmp_path):
    store = ResultStore(tmp_path / "results")
    for seed in range(3):
        store.save(make_record("random", seed, curve(0.5, seed), QUERIES))
        store.save(make_record("margin", seed, curve(0.6, seed), QUERIES))
    return store


def test_export_round_trips_to_identical_records_and_markdown(store, tmp_path):
    result = CliRunner().invoke(main, ["export", "--results", str(store.directory),
                                       "--out", str(tmp_path / "text")])
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "text" / "toy").glob("*.json"))
    assert [f.stem for f in files] == sorted(r.run_id for r in store.records())
    text = files[0].read_text()
    assert text == record_text(json_record := next(RecordFolder(tmp_path / "text").records()))
    assert json.loads(text)["run_id"] == json_record.run_id
    assert list(RecordFolder(tmp_path / "text").records()) == list(store.records())
    from_store = write_leaderboard(store, "toy", tmp_path / "a", plots=False)
    from_text = write_leaderboard(RecordFolder(tmp_path / "text"), "toy", tmp_path / "b",
                                  plots=False)
    assert from_store.read_text() == from_text.read_text()
    cli = CliRunner().invoke(main, ["leaderboard", "--results", str(tmp_path / "text"),
                                    "--out", str(tmp_path / "c"), "--no-plots"])
    assert cli.exit_code == 0, cli.output
    assert (tmp_path / "c" / "toy.md").read_text() == from_store.read_text()


def test_a_misnamed_or_duplicated_file_is_refused(store, tmp_path):
    [path, *_] = write_record_files(store.records(), tmp_path / "text")
    path.rename(path.with_name("0123456789abcdef.json"))
    with pytest.raises(RecordError, match="must be named"):
        list(RecordFolder(tmp_path / "text").records())
    path.with_name("0123456789abcdef.json").rename(path)
    (tmp_path / "text" / "other").mkdir()
    (tmp_path / "text" / "other" / path.name).write_text(path.read_text())
    with pytest.raises(RecordError, match="belongs in toy/"):
        list(RecordFolder(tmp_path / "text").records())


def test_merge_is_all_or_nothing(store, tmp_path):
    write_record_files(store.records(), tmp_path / "good")
    bad = tmp_path / "bad" / "toy"
    bad.mkdir(parents=True)
    record = make_record("entropy", 0, curve(0.5, 0), QUERIES)
    (bad / f"{record.run_id}.json").write_text(record_text(record).replace('"round": 2',
                                                                          '"round": 7'))
    target = tmp_path / "target"
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "good"), str(tmp_path / "bad"),
                                       "--results", str(target)])
    assert result.exit_code != 0 and "nothing was merged" in result.output
    assert list(ResultStore(target).records()) == []
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "good"),
                                       "--results", str(target)])
    assert result.exit_code == 0 and "6 added" in result.output
    assert list(ResultStore(target).records()) == list(store.records())


def test_leaderboard_json_document(store, tmp_path):
    result = CliRunner().invoke(main, ["leaderboard", "--results", str(store.directory),
                                       "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    [suite] = document["suites"]
    setting = suite["settings"]["blobs/mlp/b2"]
    rows = {row["strategy"]: row for row in setting["strategies"]}
    assert [row["strategy"] for row in setting["strategies"]] == ["margin", "random"]
    assert rows["margin"]["rank"] == 1 and rows["margin"]["better"] == 3
    assert rows["margin"]["vs_random"] == pytest.approx(0.1 * 5 / 6)  # round 0 is shared
    assert rows["random"]["vs_random"] is None
    assert setting["penalty"]["margin"]["random"] == 1.0
    assert setting["trust"]["seeds"] == 3
    assert not (tmp_path / "leaderboards").exists()
