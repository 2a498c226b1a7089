"""Leaderboard statistics: AUBC, label entropy, paired t-tests, penalty matrix, ranks, and
how much a setting's seeds can tell (ranking agreement, detectable difference, seeds needed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import integrate, optimize, stats

ALPHA = 0.05


def aubc(labeled, accuracy) -> float:
    """Area under the budget curve: trapezoid over labelled counts, divided by their range.

    A flat curve at accuracy ``a`` has AUBC ``a``; a single point is its own accuracy.
    """
    x = np.asarray(labeled, dtype=float)
    y = np.asarray(accuracy, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) == 0:
        raise ValueError("aubc needs two 1-d arrays of the same non-zero length")
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if x[-1] == x[0]:
        return float(y.mean())
    return float(integrate.trapezoid(y, x) / (x[-1] - x[0]))


def label_entropy(counts) -> np.ndarray:
    """Entropy (nats) of class histograms along the last axis; NaN where a histogram is empty.

    The maximum, for a uniform histogram over ``C`` classes, is ``log(C)``.
    """
    counts = np.asarray(counts, dtype=float)
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = counts / total
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return np.where(total[..., 0] > 0, terms.sum(axis=-1), np.nan)


def paired_t_test(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided paired t-test of ``a`` against ``b`` along axis 0 (the seeds), n-1 dof.

    Returns (t, p) per column. As scipy.stats.ttest_rel: identical non-zero differences give
    t = ±inf and p = 0; no differences at all, or fewer than two pairs, give NaN.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = d.shape[0]
    if n < 2:
        nan = np.full(d.shape[1:], np.nan)
        return nan, nan.copy()
    mean = d.mean(axis=0)
    sd = d.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / (sd / np.sqrt(n))
    p = 2 * stats.t.sf(np.abs(t), df=n - 1)
    return t, p


def beats(a, b, alpha: float = ALPHA) -> np.ndarray:
    """Per column: does ``a`` significantly beat ``b`` (paired, two-sided p < alpha, t > 0)?"""
    t, p = paired_t_test(a, b)
    return (t > 0) & (p < alpha)


def penalty_matrices(rounds: pd.DataFrame, alpha: float = ALPHA) -> dict[str, pd.DataFrame]:
    """Per setting, the BADGE pairwise penalty matrix (Ash et al. 2020).

    Cell (i, j) is the fraction of label budgets at which strategy i beats strategy j in a
    paired t-test over their common seeds, so each setting adds at most 1 to a cell; NaN
    (not testable) where they share fewer than two seeds. Budgets are the rounds after the
    first query: before it every strategy has the same labels.
    """
    out = {}
    for setting, frame in rounds.groupby("setting", sort=True):
        frame = frame[frame["round"] > 0]
        strategies = sorted(frame["strategy"].unique())
        matrix = pd.DataFrame(0.0, index=strategies, columns=strategies)
        if frame.empty:
            out[setting] = matrix
            continue
        acc = frame.pivot_table(index="seed", columns=["strategy", "round"],
                                values="accuracy", aggfunc="first")
        for i in strategies:
            for j in strategies:
                if i == j:
                    continue
                a, b = acc[i], acc[j]
                both = a.notna().all(axis=1) & b.notna().all(axis=1)
                if both.sum() < 2:
                    matrix.loc[i, j] = np.nan  # not testable
                    continue
                wins = beats(a[both].to_numpy(), b[both].to_numpy(), alpha)
                matrix.loc[i, j] = wins.sum() / a.shape[1]
        out[setting] = matrix
    return out


def total_penalty(matrices: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The penalty matrices summed over settings; settings where a pair is absent or not
    testable add nothing, and a pair testable in none stays NaN."""
    names = sorted({s for m in matrices.values() for s in m.index})
    stacked = [m.reindex(index=names, columns=names).to_numpy() for m in matrices.values()]
    if not stacked:
        return pd.DataFrame(index=names, columns=names, dtype=float)
    total = np.nansum(stacked, axis=0)
    total[np.isnan(stacked).all(axis=0)] = np.nan  # testable in no setting
    return pd.DataFrame(total, index=names, columns=names)


def run_summary(rounds: pd.DataFrame) -> pd.DataFrame:
    """One row per run: AUBC, final label entropy and mean seconds per round."""
    rows = []
    for (setting, strategy, seed), run in rounds.groupby(["setting", "strategy", "seed"],
                                                        sort=True):
        rows.append({
            "setting": setting, "strategy": strategy, "seed": seed,
            "aubc": aubc(run["labeled"], run["accuracy"]),
            "final_entropy": run["label_entropy"].iloc[-1],
            "query_seconds": run.loc[run["round"] < run["round"].max(), "query_seconds"].mean(),
            "train_seconds": run["train_seconds"].mean(),
        })
    return pd.DataFrame(rows, columns=["setting", "strategy", "seed", "aubc", "final_entropy",
                                       "query_seconds", "train_seconds"])


def aubc_ranks(summary: pd.DataFrame) -> pd.DataFrame:
    """Per setting, each strategy's rank by mean AUBC (1 = best, ties share the mean rank)."""
    means = summary.groupby(["setting", "strategy"], sort=True)["aubc"].mean()
    table = means.rename("aubc").reset_index()
    table["rank"] = table.groupby("setting")["aubc"].rank(ascending=False, method="average")
    return table


POWER = 0.8
"""Power the trust figures are computed at (with ``ALPHA``, two-sided)."""


def mean_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and its two-sided t interval over seeds; the bounds are NaN for fewer than two."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1)
    half /= np.sqrt(len(values))
    return mean, mean - float(half), mean + float(half)


def paired_power(effect: float, n: int, alpha: float = ALPHA) -> float:
    """Power of the two-sided paired t-test with ``n`` pairs at standardised effect
    ``effect`` (mean difference / SD of the differences): the noncentral t's two tails."""
    if n < 2:
        return float("nan")
    df = n - 1
    critical = stats.t.ppf(1 - alpha / 2, df)
    noncentrality = effect * np.sqrt(n)
    power = (stats.nct.sf(critical, df, noncentrality)
             + stats.nct.cdf(-critical, df, noncentrality))
    if np.isfinite(power):
        return float(power)

    def rejected(v: float) -> float:  # P(|Z + nc| > critical * sqrt(V / df)) given V = v
        bound = critical * np.sqrt(v / df)
        return (stats.norm.sf(bound - noncentrality) + stats.norm.cdf(-bound - noncentrality)
                ) * stats.chi2.pdf(v, df)

    # scipy's nct gives NaN for some tails (df = 1, large nc): integrate over the chi-square
    low, high = stats.chi2.ppf(1e-15, df), stats.chi2.isf(1e-15, df)
    return float(integrate.quad(rejected, low, high, limit=200)[0])


def detectable_effect(n: int, power: float = POWER, alpha: float = ALPHA) -> float:
    """Smallest standardised effect the paired t-test with ``n`` pairs detects with ``power``
    (infinite below two pairs)."""
    if n < 2:
        return float("inf")
    high = 1.0
    while paired_power(high, n, alpha) < power:
        high *= 2
    return float(optimize.brentq(lambda d: paired_power(d, n, alpha) - power, 0.0, high,
                                 xtol=1e-10))


def pairs_needed(effect: float, power: float = POWER, alpha: float = ALPHA,
                 limit: int = 100_000) -> int | None:
    """Fewest pairs (seeds) with which the paired t-test detects ``effect`` with ``power``;
    ``None`` if not within ``limit`` (or the effect is not positive)."""
    if not effect > 0:
        return None
    low, high = 2, 2
    while paired_power(effect, high, alpha) < power:
        low, high = high, high * 2
        if high > limit:
            return None
    while low < high:  # power grows with n: the first n that reaches it
        middle = (low + high) // 2
        if paired_power(effect, middle, alpha) >= power:
            high = middle
        else:
            low = middle + 1
    return high


def aubc_table(summary: pd.DataFrame, setting: str) -> pd.DataFrame:
    """One setting's AUBC per run: seeds as rows, strategies as columns (NaN: did not run)."""
    mine = summary[summary["setting"] == setting]
    return mine.pivot_table(index="seed", columns="strategy", values="aubc", aggfunc="first")


def seed_rank_agreement(table: pd.DataFrame) -> list[float]:
    """Spearman correlation of the strategies' AUBC between every pair of seeds (over the
    strategies both seeds ran; pairs with fewer than three such strategies are skipped)."""
    out = []
    seeds = list(table.index)
    for i, first in enumerate(seeds):
        for second in seeds[i + 1:]:
            both = table.loc[[first, second]].dropna(axis=1)
            if both.shape[1] < 3:
                continue
            rho = stats.spearmanr(both.iloc[0], both.iloc[1]).statistic
            if not np.isnan(rho):
                out.append(float(rho))
    return out


def paired_sd(table: pd.DataFrame) -> float:
    """The SD over seeds of one strategy's AUBC minus another's, pooled over every pair of
    strategies (root mean of the per-pair variances, each over their common seeds)."""
    variances = []
    names = list(table.columns)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            difference = (table[a] - table[b]).dropna()
            if len(difference) >= 2:
                variances.append(difference.var(ddof=1))
    return float(np.sqrt(np.mean(variances))) if variances else float("nan")


@dataclass(frozen=True)
class Trust:
    """How much one setting's leaderboard can tell (AUBC in accuracy fractions)."""

    seeds: int
    agreement: list[float]
    """Spearman ρ of the strategy ranking between each pair of seeds."""
    paired_sd: float
    detectable: float
    """Smallest AUBC difference the paired t-test detects at ``POWER`` with ``seeds``."""
    seeds_for_one_point: int | None
    """Seeds needed to detect a difference of 0.01 (one accuracy point)."""


def trust(table: pd.DataFrame, power: float = POWER, alpha: float = ALPHA) -> Trust:
    """The trust figures of a setting from its AUBC table (see ``aubc_table``)."""
    seeds = int(table.notna().sum(axis=0).max()) if table.size else 0
    sd = paired_sd(table)
    if np.isnan(sd):
        return Trust(seeds, seed_rank_agreement(table), sd, float("nan"), None)
    detectable = sd * detectable_effect(seeds, power, alpha)
    needed = pairs_needed(0.01 / sd, power, alpha) if sd > 0 else 2
    return Trust(seeds, seed_rank_agreement(table), sd, detectable, needed)
