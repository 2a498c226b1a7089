"""The numbers at the top of a leaderboard: one table per setting, and the suite's aggregates.

Everything the markdown, the JSON document and the findings show comes from here, so the
three always agree.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from albench.report.aggregate import Board
from albench.report.stats import (
    ALPHA,
    POWER,
    Trust,
    aubc_table,
    mean_interval,
    paired_t_test,
    penalty_matrices,
    run_summary,
    total_penalty,
    trust,
)

REFERENCE = "random"
"""The strategy every other one is compared with."""
RANK_DIGITS = 1
"""Mean AUBCs equal to this many decimals of a point are a tie and share a rank."""
MIN_SEEDS_TO_RANK = 5
"""A strategy with fewer seeds than the setting's most is still ranked with this many (suites
give expensive strategies fewer seeds); with fewer it is listed, not ranked."""

COLUMNS = ["strategy", "seeds", "ranked", "rank", "aubc", "aubc_low", "aubc_high",
           "vs_random", "vs_random_low", "vs_random_high", "vs_random_seeds", "better",
           "worse", "budgets", "final_accuracy", "final_accuracy_sd", "final_entropy",
           "query_seconds", "train_seconds", "plugin", "version", "options"]


def setting_table(board: Board, summary: pd.DataFrame, setting: str) -> pd.DataFrame:
    """One row per strategy of ``setting``, best first (AUBC and accuracies as fractions).

    Strategies with fewer seeds than the setting's most and fewer than ``MIN_SEEDS_TO_RANK``
    are not ranked (``ranked`` False, ``rank`` NaN) and come last; ranked ones whose mean AUBC
    agrees to ``RANK_DIGITS`` decimals of a point share the better rank.
    """
    rounds = board.rounds[board.rounds["setting"] == setting]
    runs = summary[summary["setting"] == setting]
    aubc = aubc_table(summary, setting)
    accuracy = rounds[rounds["round"] > 0].pivot_table(
        index="seed", columns=["strategy", "round"], values="accuracy", aggfunc="first")
    last = rounds[rounds["round"] == rounds["round"].max()]
    most = int(aubc.notna().sum().max()) if aubc.size else 0
    rows = []
    for strategy in aubc.columns:
        mine = runs[runs["strategy"] == strategy]
        row = dict(zip(("aubc", "aubc_low", "aubc_high"), mean_interval(mine["aubc"])))
        row.update(_versus_reference(aubc, accuracy, strategy))
        final = last.loc[last["strategy"] == strategy, "accuracy"]
        seeds = int(aubc[strategy].notna().sum())
        rows.append({
            **row, "strategy": strategy, "seeds": seeds,
            "ranked": seeds == most or seeds >= MIN_SEEDS_TO_RANK,
            "final_accuracy": float(final.mean()),
            "final_accuracy_sd": float(final.std(ddof=1)) if len(final) > 1 else math.nan,
            "final_entropy": float(mine["final_entropy"].mean()),
            "query_seconds": float(mine["query_seconds"].mean()),
            "train_seconds": float(mine["train_seconds"].mean()),
            "plugin": board.plugins.get(strategy, ""), "version": board.versions.get(strategy, ""),
            "options": board.options.get(strategy, {}),
        })
    table = pd.DataFrame(rows, columns=COLUMNS)
    shown = (table["aubc"] * 100).round(RANK_DIGITS).where(table["ranked"])
    table["rank"] = shown.rank(ascending=False, method="min")
    table["_order"] = np.where(table["ranked"], table["rank"], math.inf)
    table = table.sort_values(["_order", "aubc", "strategy"], ascending=[True, False, True])
    return table.drop(columns="_order").reset_index(drop=True)


def _versus_reference(aubc: pd.DataFrame, accuracy: pd.DataFrame, strategy: str
                      ) -> dict[str, Any]:
    """AUBC difference to random over common seeds (mean, 95% interval), and at how many
    budgets a paired t-test finds the strategy better / worse than random."""
    empty = {"vs_random": math.nan, "vs_random_low": math.nan, "vs_random_high": math.nan,
             "vs_random_seeds": 0, "better": math.nan, "worse": math.nan,
             "budgets": accuracy.columns.get_level_values("round").nunique()}
    if strategy == REFERENCE or REFERENCE not in aubc.columns:
        return empty
    difference = (aubc[strategy] - aubc[REFERENCE]).dropna()
    mean, low, high = mean_interval(difference)
    out = {**empty, "vs_random": mean, "vs_random_low": low, "vs_random_high": high,
           "vs_random_seeds": len(difference)}
    if len(difference) >= 2:
        mine, theirs = accuracy[strategy], accuracy[REFERENCE]
        both = mine.notna().all(axis=1) & theirs.notna().all(axis=1)
        t, p = paired_t_test(mine[both].to_numpy(), theirs[both].to_numpy())
        out["better"] = int(((t > 0) & (p < ALPHA)).sum())
        out["worse"] = int(((t < 0) & (p < ALPHA)).sum())
    return out


def setting_trust(summary: pd.DataFrame, setting: str) -> Trust:
    return trust(aubc_table(summary, setting))


def trust_sentence(figures: Trust) -> str:
    """The trust figures in one sentence a reader understands (AUBC in points)."""
    if figures.seeds < 2 or math.isnan(figures.paired_sd):
        return (f"How much this table can tell: with {figures.seeds} seed(s) per strategy, "
                f"nothing — differences between strategies need at least two seeds to test.")
    rhos = figures.agreement
    if rhos:
        agreement = (f"the strategies' order by AUBC agrees between two seeds with a Spearman "
                     f"ρ of {np.mean(rhos):.2f} on average ({min(rhos):.2f} to "
                     f"{max(rhos):.2f} over {len(rhos)} pair(s) of seeds; 1 is the same order, "
                     f"0 unrelated)")
    else:
        agreement = "too few strategies to compare the order between seeds"
    needed = (f"{figures.seeds_for_one_point} seeds" if figures.seeds_for_one_point
              else "more seeds than can be computed")
    return (f"How much this table can tell: {agreement}; with {figures.seeds} seeds a "
            f"paired t-test detects AUBC differences of {100 * figures.detectable:.1f} points "
            f"or more ({POWER:.0%} power, α = {ALPHA}; the AUBC difference between two "
            f"strategies varies between seeds with a standard deviation of "
            f"{100 * figures.paired_sd:.2f} points), and detecting 1 point would take "
            f"{needed}.")


def aggregates(board: Board) -> dict[str, Any]:
    """The suite's aggregates as plain data: per setting its trust figures, table and
    penalty matrix, plus the matrix summed over settings (NaN -> None: not testable)."""
    summary = run_summary(board.rounds)
    penalties = penalty_matrices(board.rounds)
    settings = {}
    for setting in board.settings:
        if setting not in set(summary["setting"]):
            continue
        figures = setting_trust(summary, setting)
        settings[setting] = {
            "trust": {"seeds": figures.seeds, "rank_agreement": figures.agreement,
                      "paired_sd": _plain(figures.paired_sd),
                      "detectable_difference": _plain(figures.detectable),
                      "seeds_for_one_point": figures.seeds_for_one_point,
                      "power": POWER, "alpha": ALPHA},
            "strategies": [{key: _plain(value) for key, value in row.items()}
                           for row in setting_table(board, summary, setting).to_dict("records")],
            "penalty": _matrix(penalties.get(setting)),
        }
    return {"suite": board.suite, "settings": settings,
            "penalty_total": _matrix(total_penalty(penalties)) if penalties else {}}


def _matrix(matrix: pd.DataFrame | None) -> dict[str, dict[str, float | None]]:
    if matrix is None:
        return {}
    return {row: {col: _plain(matrix.loc[row, col]) for col in matrix.columns if col != row}
            for row in matrix.index}


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else float(value)
    return value
