"""The command line, end to end."""

import json

from click.testing import CliRunner

from albench.cli import main
from albench.results import ResultStore


def test_run_all_on_a_suite_then_skip(tiny_suite, tmp_path):
    results = tmp_path / "results"
    args = ["run", "--all", "--suite", str(tiny_suite), "--seeds", "0", "--results",
            str(results), "--quiet", "--no-leaderboard", "--device", "cpu"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "2 completed" in first.output
    records = list(ResultStore(results).records())
    assert sorted(r.spec.strategy for r in records) == ["entropy", "random"]
    assert all(r.finished for r in records)
    second = CliRunner().invoke(main, args)
    assert "0 completed, 2 already complete" in second.output


def test_default_suite_is_quick_on_digits(tmp_path, monkeypatch):
    import albench.cli
    import albench.spec

    seen = []
    real = albench.spec.load_suite

    def shrunk(name):
        suite = real(name)
        seen.append(suite.name)
        return suite.model_copy(update={"rounds": 1})

    monkeypatch.setattr(albench.spec, "load_suite", shrunk)
    result = CliRunner().invoke(main, ["run", "-s", "random", "--seeds", "0", "--results",
                                       str(tmp_path), "--quiet", "--no-leaderboard"])
    assert result.exit_code == 0, result.output
    assert seen == ["quick"]
    (record,) = ResultStore(tmp_path).records(suite="quick")
    assert record.spec.dataset == "digits" and len(record.rounds) == 2


def test_run_needs_strategies():
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code != 0 and "--all" in result.output


def test_a_mistyped_strategy_is_answered_with_the_closest_name(tiny_suite):
    result = CliRunner().invoke(main, ["run", "-s", "entropi", "--suite", str(tiny_suite)])
    assert result.exit_code != 0
    assert "unknown strategy 'entropi' (did you mean 'entropy'?)" in result.output
    assert "random" not in result.output


def test_a_mistyped_suite_is_answered_with_the_closest_name():
    result = CliRunner().invoke(main, ["run", "--all", "--suite", "quik"])
    assert result.exit_code != 0
    assert "no suite named 'quik' (did you mean 'quick'?)" in result.output


def test_bad_seeds_and_bad_suite(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nsettings = [{dataset = "digits", model = "mlp"}]\n')
    result = CliRunner().invoke(main, ["run", "--all", "--suite", str(bad)])
    assert result.exit_code != 0 and "settings.0.batch_size" in result.output
    result = CliRunner().invoke(main, ["run", "--all", "--seeds", "a,b"])
    assert result.exit_code != 0 and "--seeds" in result.output
    result = CliRunner().invoke(main, ["run", "--all", "--suite", "no-such-suite"])
    assert result.exit_code != 0 and "albench list suites" in result.output


def test_gpus_per_run_is_validated_and_refused_by_executors_without_gpus(tmp_path):
    for share in ("0", "-1", "1.5", "nan"):
        result = CliRunner().invoke(main, ["run", "--all", "--gpus-per-run", share])
        assert result.exit_code != 0 and "fraction in (0, 1] or a whole number" in result.output
    result = CliRunner().invoke(main, ["run", "--all", "--gpus-per-run", "0.1",
                                       "--results", str(tmp_path)])
    assert result.exit_code != 0
    assert "executor 'local' does not accept it" in result.output


def test_list_and_plugins():
    listing = CliRunner().invoke(main, ["list", "strategies"])
    assert listing.exit_code == 0 and "least-confidence" in listing.output
    plugins = CliRunner().invoke(main, ["plugins", "--json"])
    data = json.loads(plugins.output)
    names = {p["name"] for p in data["plugins"]}
    assert "albench.builtin.strategies" in names


def test_merge_copies_runs_computed_elsewhere(tiny_suite, tmp_path):
    elsewhere = tmp_path / "gpu-box"
    run = CliRunner().invoke(main, ["run", "-s", "random", "--suite", str(tiny_suite), "--seeds",
                                    "0,1", "--results", str(elsewhere), "--quiet",
                                    "--no-leaderboard", "--device", "cpu"])
    assert run.exit_code == 0, run.output
    here = tmp_path / "here"
    merged = CliRunner().invoke(main, ["merge", str(elsewhere), "--results", str(here)])
    assert merged.exit_code == 0, merged.output
    assert "2 added, 0 extended, 0 unchanged, 0 conflicting" in merged.output
    assert list(ResultStore(here).records()) == list(ResultStore(elsewhere).records())

    missing = CliRunner().invoke(main, ["merge", str(tmp_path), "--results", str(here)])
    assert missing.exit_code != 0 and "no results store" in missing.output
