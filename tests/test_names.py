"""Loose name matching and suggestions."""

from click.testing import CliRunner

from albench.cli import main
from albench.names import did_you_mean, folded_match

NAMES = ["entropy", "least-confidence", "bayesian-least-confidence", "random", "margin"]


def test_case_and_underscores_are_folded():
    assert folded_match("Least_Confidence", NAMES) == "least-confidence"
    assert folded_match("entropi", NAMES) is None


def test_only_close_names_are_suggested():
    assert did_you_mean("entropi", NAMES) == " (did you mean 'entropy'?)"
    assert did_you_mean("zzz", NAMES) == ""
    assert "random" not in did_you_mean("least_confidenc", NAMES)


def test_leaderboard_suggests_the_closest_stored_suite(tiny_suite, tmp_path):
    results = str(tmp_path / "results")
    CliRunner().invoke(main, ["run", "-s", "random", "--suite", str(tiny_suite), "--seeds", "0",
                              "--results", results, "--quiet", "--no-leaderboard",
                              "--device", "cpu", "--executor", "inline"])
    result = CliRunner().invoke(main, ["leaderboard", "--suite", "Tiny", "--results", results])
    assert result.exit_code != 0
    assert "no runs of suite 'Tiny'" in result.output
    assert "(did you mean 'tiny'?); stored suites: tiny" in result.output
