"""Leaderboard statistics: AUBC, label entropy, paired t-tests, penalty matrix and ranks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import integrate, stats

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
    paired t-test over their common seeds, so each setting adds at most 1 to a cell. Budgets
    are the rounds after the first query: before it every strategy has the same labels.
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
                wins = beats(a[both].to_numpy(), b[both].to_numpy(), alpha)
                matrix.loc[i, j] = wins.sum() / a.shape[1]
        out[setting] = matrix
    return out


def total_penalty(matrices: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The penalty matrices summed over settings (strategies absent from one add nothing)."""
    names = sorted({s for m in matrices.values() for s in m.index})
    total = pd.DataFrame(0.0, index=names, columns=names)
    for matrix in matrices.values():
        total = total.add(matrix, fill_value=0.0)
    return total.loc[names, names]


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
