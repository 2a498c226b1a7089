"""Leaderboards from stored run records: tables, statistics, plots and markdown.

Reporting only reads the results store; ``albench leaderboard`` can be rerun at any time and
gives the same bytes for the same records.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from albench.report import plots as plotting
from albench.report.aggregate import Board, build_board, csv_table
from albench.report.markdown import render
from albench.report.stats import (
    aubc_ranks,
    penalty_matrices,
    run_summary,
    total_penalty,
)
from albench.results import ResultStore

__all__ = ["Board", "load_board", "slug", "write_leaderboard"]

FACET_ABOVE = 8
"""Settings with more strategies than this also get learning curves in one panel per plugin."""


def slug(text: str) -> str:
    """A file-name-safe form of ``text``; names that had to change get a short hash."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "_"
    if safe != text.replace("/", "_") or len(safe) > 60:
        safe = f"{safe[:60]}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return safe


def load_board(store: ResultStore, suite_name: str) -> Board:
    """Every stored record of ``suite_name``, grouped and tabulated."""
    return build_board(suite_name, store.records(suite_name))


def write_leaderboard(store: ResultStore, suite_name: str, directory: str | Path,
                      *, csv: bool = False, plots: bool = True) -> Path:
    """Write ``<directory>/<suite>.md`` and its plots in ``<directory>/<suite>/``.

    With ``csv``, also ``<directory>/<suite>.csv``: the tidy per-round table; without
    ``plots``, no PNGs (and no links to them). Returns the markdown path.
    """
    directory = Path(directory)
    board = load_board(store, suite_name)
    name = slug(suite_name)
    plot_dir = directory / name
    plot_dir.mkdir(parents=True, exist_ok=True)
    for old in sorted(plot_dir.glob("*.png")):
        old.unlink()

    summary = run_summary(board.rounds)
    ranks = aubc_ranks(summary)
    penalties = penalty_matrices(board.rounds)
    total = total_penalty(penalties)

    images = {}
    colours = plotting.palette(board.strategies)
    for setting in board.settings if plots else []:
        rounds = board.rounds[board.rounds["setting"] == setting]
        if rounds.empty:
            continue
        for key, draw in (("learning", plotting.learning_curves),
                          ("entropy", plotting.entropy_curves)):
            path = draw(rounds, setting, colours, plot_dir / f"{key}-{slug(setting)}.png")
            images[f"{key}:{setting}"] = f"{name}/{path.name}"
        if rounds["strategy"].nunique() > FACET_ABOVE:
            path = plotting.learning_curves_by_plugin(
                rounds, setting, board.plugins,
                plot_dir / f"learning-by-plugin-{slug(setting)}.png")
            images[f"learning-by-plugin:{setting}"] = f"{name}/{path.name}"
    if plots and len(total) >= 2:
        path = plotting.penalty_heatmap(total, len(penalties), plot_dir / "penalty.png")
        images["penalty"] = f"{name}/{path.name}"

    out = directory / f"{name}.md"
    out.write_text(render(board, summary, ranks, penalties, total, images), encoding="utf-8")
    if csv:
        csv_table(board.rounds).to_csv(directory / f"{name}.csv", index=False,
                                       float_format="%.6g", lineterminator="\n")
    return out
