"""Loose name matching and suggestions."""

from albench.names import did_you_mean, folded_match

NAMES = ["entropy", "least-confidence", "bayesian-least-confidence", "random", "margin"]


def test_case_and_underscores_are_folded():
    assert folded_match("Least_Confidence", NAMES) == "least-confidence"
    assert folded_match("entropi", NAMES) is None


def test_only_close_names_are_suggested():
    assert did_you_mean("entropi", NAMES) == " (did you mean 'entropy'?)"
    assert did_you_mean("zzz", NAMES) == ""
    assert "random" not in did_you_mean("least_confidenc", NAMES)
