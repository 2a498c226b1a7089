"""Leaderboard statistics against hand-computed answers and scipy."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from albench.report.markdown import budget_rounds, md, mean_std
from albench.report.plots import plot_text
from albench.report.stats import (
    aubc,
    beats,
    detectable_effect,
    label_entropy,
    mean_interval,
    paired_power,
    paired_sd,
    paired_t_test,
    pairs_needed,
    penalty_matrices,
    seed_rank_agreement,
    total_penalty,
    trust,
)


def test_aubc_known_curve():
    # trapezoids: 10 * (0.5 + 0.7) / 2 + 20 * (0.7 + 0.9) / 2 = 22 over a range of 30
    assert aubc([10, 20, 40], [0.5, 0.7, 0.9]) == pytest.approx(22 / 30)
    assert aubc([40, 10, 20], [0.9, 0.5, 0.7]) == pytest.approx(22 / 30)
    assert aubc([5, 7, 100], [0.4, 0.4, 0.4]) == pytest.approx(0.4)
    assert aubc([5], [0.3]) == pytest.approx(0.3)
    with pytest.raises(ValueError):
        aubc([1, 2], [0.5])


def test_label_entropy_values():
    values = label_entropy([[5, 5, 5, 5], [7, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [3, 1, 0, 0]])
    assert values[0] == pytest.approx(math.log(4))
    assert values[1] == 0
    assert values[2] == pytest.approx(math.log(2))
    assert math.isnan(values[3])
    assert values[4] == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    assert values[4] == pytest.approx(stats.entropy([3, 1, 0, 0]))


def test_paired_t_test_matches_scipy():
    rng = np.random.default_rng(0)
    for n in (2, 3, 5, 10):
        a = rng.normal(0.7, 0.05, size=(n, 6))
        b = a - rng.normal(0.01, 0.02, size=(n, 6))
        t, p = paired_t_test(a, b)
        expected = stats.ttest_rel(a, b, axis=0)
        np.testing.assert_allclose(t, expected.statistic, rtol=1e-10)
        np.testing.assert_allclose(p, expected.pvalue, rtol=1e-10)


def test_paired_t_test_uses_n_minus_1_degrees_of_freedom():
    # differences 1, 2, 3: t = 2 / (1 / sqrt 3) = 3.46, between the 5% critical values
    # for 2 (4.30) and 3 (3.18) degrees of freedom: a test with n dof would call it significant
    a, b = np.array([[1.0], [2.0], [3.0]]), np.zeros((3, 1))
    assert stats.ttest_rel(a[:, 0], b[:, 0]).pvalue > 0.05
    assert 2 * stats.t.sf(3.4641, df=3) < 0.05
    assert not beats(a, b)[0]
    assert not beats(b, a)[0]
    assert beats(np.array([[1.0], [2.0], [3.0], [2.5], [1.5]]), np.zeros((5, 1)))[0]


def test_paired_t_test_degenerate_cases_match_scipy():
    t, p = paired_t_test([[1.0, 1.0], [2.0, 2.0]], [[0.0, 1.0], [1.0, 2.0]])
    assert t[0] == math.inf and p[0] == 0  # identical non-zero differences
    assert math.isnan(t[1]) and math.isnan(p[1])  # no difference at all
    t, p = paired_t_test([[1.0]], [[0.0]])
    assert math.isnan(t[0]) and math.isnan(p[0])  # one pair: no test


def _rounds(accuracy: dict[str, np.ndarray], setting: str = "s") -> pd.DataFrame:
    """Tidy rows from {strategy: accuracy[seed, round]}."""
    rows = [{"setting": setting, "strategy": name, "seed": seed, "round": r,
             "labeled": 10 + 5 * r, "accuracy": float(acc[seed, r])}
            for name, acc in accuracy.items()
            for seed in range(acc.shape[0]) for r in range(acc.shape[1])]
    return pd.DataFrame(rows)


def _expected_penalty(accuracy: dict[str, np.ndarray]) -> pd.DataFrame:
    names = sorted(accuracy)
    out = pd.DataFrame(0.0, index=names, columns=names)
    for i in names:
        for j in names:
            if i == j:
                continue
            budgets = range(1, accuracy[i].shape[1])
            for r in budgets:
                result = stats.ttest_rel(accuracy[i][:, r], accuracy[j][:, r])
                if result.statistic > 0 and result.pvalue < 0.05:
                    out.loc[i, j] += 1 / len(budgets)
    return out


def test_penalty_matrix_against_scipy():
    rng = np.random.default_rng(1)
    base = rng.uniform(0.5, 0.9, size=(5, 7))
    base[:, 0] = 0.5  # round 0: every strategy has the same labels
    accuracy = {
        "good": base + 0.03 + rng.normal(0, 0.01, size=base.shape),
        "bad": base - 0.03 + rng.normal(0, 0.01, size=base.shape),
        "noisy": base + rng.normal(0, 0.05, size=base.shape),
    }
    for acc in accuracy.values():
        acc[:, 0] = 0.5
    matrix = penalty_matrices(_rounds(accuracy))["s"]
    expected = _expected_penalty(accuracy)
    pd.testing.assert_frame_equal(matrix, expected.loc[matrix.index, matrix.columns])
    assert matrix.loc["good", "bad"] == 1.0  # every budget, at most 1 per setting
    assert matrix.loc["bad", "good"] == 0.0
    assert (matrix.to_numpy() <= 1).all()


def test_penalty_summed_over_settings_counts_each_at_most_once():
    rng = np.random.default_rng(2)
    first = {"a": rng.uniform(0.6, 0.8, (4, 5))}
    first["b"] = first["a"] - 0.05 + rng.normal(0, 0.005, (4, 5))
    second = {"a": rng.uniform(0.6, 0.8, (4, 5))}
    second["b"] = second["a"] - 0.05 + rng.normal(0, 0.005, (4, 5))
    second["c"] = second["a"] + 0.05 + rng.normal(0, 0.005, (4, 5))
    rounds = pd.concat([_rounds(first, "one"), _rounds(second, "two")])
    matrices = penalty_matrices(rounds)
    total = total_penalty(matrices)
    assert total.loc["a", "b"] == 2.0
    assert total.loc["c", "a"] == 1.0  # c only ran in one setting
    assert total.loc["a", "c"] == 0.0
    pd.testing.assert_frame_equal(matrices["two"], _expected_penalty(second).loc[
        matrices["two"].index, matrices["two"].columns])


def test_penalty_pairs_only_common_seeds():
    rng = np.random.default_rng(3)
    a = rng.uniform(0.6, 0.8, (4, 3))
    rounds = _rounds({"a": a, "b": a - 0.1 + rng.normal(0, 0.001, (4, 3))})
    extra = _rounds({"a": np.full((6, 3), 0.0)})  # seeds 4, 5 of a only: must be ignored
    extra = extra[extra["seed"] >= 4]
    matrix = penalty_matrices(pd.concat([rounds, extra]))["s"]
    assert matrix.loc["a", "b"] == 1.0


def test_markdown_escaping():
    text = md("evil|name<script>alert(1)</script>`code`\nnext*[x](y)$")
    assert "<" not in text and ">" not in text
    assert "\n" not in text
    assert "|" not in text.replace("\\|", "")
    assert "`" not in text.replace("\\`", "")
    assert "[" not in text.replace("\\[", "")
    assert md("random") == "random"
    assert md("a&b") == "a&amp;b"


def test_plot_text_disables_mathtext():
    assert plot_text("a$b$c") == r"a\$b\$c"
    assert "\n" not in plot_text("a\nb")


def test_mean_std_and_budgets():
    assert mean_std([0.5, 0.7], scale=100) == "60.0 ± 14.1"
    assert mean_std([0.5], scale=100) == "50.0"
    assert mean_std([]) == "–"
    assert budget_rounds(10) == [2, 5, 8, 10]
    assert budget_rounds(2) == [1, 2]
    assert budget_rounds(0) == [0]


def test_power_matches_the_textbook_paired_t_test():
    # Cohen (1988) / G*Power, matched pairs, two-sided alpha 0.05, power 0.8:
    # d = 0.5 needs 34 pairs (actual power 0.8078), d = 0.8 needs 15, d = 0.2 needs 199.
    assert pairs_needed(0.5) == 34 and pairs_needed(0.8) == 15 and pairs_needed(0.2) == 199
    assert paired_power(0.5, 34) == pytest.approx(0.8078, abs=1e-4)
    assert paired_power(0.5, 33) < 0.8


def test_power_against_scipy_noncentral_t_and_simulation():
    n, d = 5, 1.2
    crit = stats.t.ppf(0.975, n - 1)
    expected = stats.nct.sf(crit, n - 1, d * math.sqrt(n)) + stats.nct.cdf(-crit, n - 1,
                                                                        d * math.sqrt(n))
    assert paired_power(d, n) == pytest.approx(expected)
    rng = np.random.default_rng(0)
    diffs = rng.normal(d, 1.0, size=(20000, n))
    rejected = stats.ttest_1samp(diffs, 0.0, axis=1).pvalue < 0.05
    assert rejected.mean() == pytest.approx(paired_power(d, n), abs=0.015)


def test_power_where_scipys_noncentral_t_fails(monkeypatch):
    # two pairs (df = 1) at noncentrality 38.5: scipy's nct gives NaN for the lower tail here
    crit, nc = stats.t.ppf(0.975, 1), 38.5
    power = paired_power(nc / math.sqrt(2), 2)
    assert power == pytest.approx(stats.nct.sf(crit, 1, nc), abs=1e-9) and power < 1
    expected = paired_power(1.2, 5)
    monkeypatch.setattr(stats.nct, "cdf", lambda *args: math.nan)  # the integral instead
    assert paired_power(1.2, 5) == pytest.approx(expected, abs=1e-9)


def test_detectable_effect_inverts_power():
    for n in (2, 3, 10):
        effect = detectable_effect(n)
        assert paired_power(effect, n) == pytest.approx(0.8, abs=1e-8)
    assert detectable_effect(1) == math.inf
    assert detectable_effect(3) > detectable_effect(10) > 0.5


def test_mean_interval_is_the_t_interval():
    values = [0.70, 0.74, 0.71, 0.69]
    mean, low, high = mean_interval(values)
    expected = stats.t.interval(0.95, 3, loc=np.mean(values), scale=stats.sem(values))
    assert mean == pytest.approx(0.71) and (low, high) == pytest.approx(expected)
    assert math.isnan(mean_interval([0.5])[1])


def test_seed_agreement_and_paired_sd():
    table = pd.DataFrame({"a": [0.1, 0.2, 0.3], "b": [0.2, 0.3, 0.1], "c": [0.3, 0.1, 0.2]},
                         index=[0, 1, 2])
    # seed 0 ranks a<b<c, seed 1 c<a<b, seed 2 b<c<a
    assert seed_rank_agreement(table) == pytest.approx([-0.5, -0.5, -0.5])
    variances = [np.var(table[x] - table[y], ddof=1) for x, y in (("a", "b"), ("a", "c"),
                                                                  ("b", "c"))]
    assert paired_sd(table) == pytest.approx(math.sqrt(np.mean(variances)))
    figures = trust(table)
    assert figures.seeds == 3
    assert figures.detectable == pytest.approx(figures.paired_sd * detectable_effect(3))
    needed = figures.seeds_for_one_point
    assert paired_power(0.01 / figures.paired_sd, needed) >= 0.8
    assert paired_power(0.01 / figures.paired_sd, needed - 1) < 0.8


def test_pairs_with_too_few_common_seeds_are_not_testable():
    rng = np.random.default_rng(3)
    a = rng.normal(0.7, 0.01, (3, 3))
    rounds = _rounds({"a": a, "b": a - 0.1})
    lonely = _rounds({"c": a[:1] + 0.2})  # one seed only
    matrix = penalty_matrices(pd.concat([rounds, lonely]))["s"]
    assert math.isnan(matrix.loc["a", "c"]) and math.isnan(matrix.loc["c", "b"])
    assert matrix.loc["a", "b"] == 1.0
    assert math.isnan(total_penalty({"s": matrix}).loc["a", "c"])


def test_one_label_per_machine():
    from albench.report.aggregate import one_label_per_machine

    one = one_label_per_machine(pd.Series(["cpu", "cpu (AMD EPYC)", "cuda"]))
    assert list(one) == ["cpu (AMD EPYC)", "cpu (AMD EPYC)", "cuda"]
    two = one_label_per_machine(pd.Series(["cpu", "cpu (A)", "cpu (B)"]))
    assert list(two) == ["cpu", "cpu (A)", "cpu (B)"]  # which machine is unknown


def test_strategy_colours_do_not_depend_on_the_other_strategies():
    from albench.report.plots import name_colour, palette

    assert palette(["margin", "zz-new"])["margin"] == palette(["margin"])["margin"]
    assert palette(["a", "zz-new"])["zz-new"] == palette(["zz-new"])["zz-new"] \
        == name_colour("zz-new")
    assert name_colour("random") == (0.0, 0.0, 0.0)
    assert len({name_colour(n) for n in ("margin", "entropy", "bald", "coreset", "dal")}) == 5


def test_points_never_show_minus_zero():
    from albench.report.markdown import points

    assert points(-0.0004, signed=True) == "+0.0" and points(0.0123) == "1.2"
    assert points(float("nan")) == "–" and points(-0.015, signed=True) == "-1.5"
