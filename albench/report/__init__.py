"""Leaderboards from stored run records: tables, statistics, plots and markdown.

Reporting only reads the results store; ``albench leaderboard`` can be rerun at any time and
gives the same bytes for the same records.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from albench.errors import AlbenchError
from albench.report import plots as plotting
from albench.report.aggregate import Board, build_board, csv_table
from albench.report.markdown import render
from albench.report.stats import (
    penalty_matrices,
    run_summary,
    total_penalty,
)
from albench.report.tables import aggregates, setting_table, setting_trust
from albench.results import RunRecord

__all__ = ["Board", "aggregates", "load_board", "slug", "write_leaderboard"]

FACET_ABOVE = 8
"""Settings with more strategies than this get learning curves in one panel per plugin."""
MANIFEST = ".albench-generated.json"
"""In a suite's plot folder: the files the last ``write_leaderboard`` wrote there, the only
ones the next one may delete."""


def slug(text: str) -> str:
    """A file-name-safe form of ``text``; names that had to change get a short hash."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "_"
    if safe != text.replace("/", "_") or len(safe) > 60:
        safe = f"{safe[:60]}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return safe


class RecordSource(Protocol):
    """Where records are read from: a ``ResultStore`` or a folder of JSON records."""

    def records(self, suite: str | None = None) -> Iterable[RunRecord]: ...


def load_board(store: RecordSource, suite_name: str) -> Board:
    """Every stored record of ``suite_name``, grouped and tabulated."""
    return build_board(suite_name, store.records(suite_name))


def write_leaderboard(store: RecordSource, suite_name: str, directory: str | Path,
                      *, csv: bool = False, plots: bool = True) -> Path:
    """Write ``<directory>/<suite>.md``, its plots and pairwise matrix in ``<directory>/<suite>/``.

    With ``csv``, also ``<directory>/<suite>.csv``: the tidy per-round table; without
    ``plots``, no PNGs (and no links to them). Files a previous call wrote to the plot
    folder are replaced; nothing else there is touched. Returns the markdown path.
    """
    directory = Path(directory)
    board = load_board(store, suite_name)
    name = slug(suite_name)
    plot_dir = directory / name
    plot_dir.mkdir(parents=True, exist_ok=True)
    _remove_generated(plot_dir)
    written = []

    summary = run_summary(board.rounds)
    tables = {s: setting_table(board, summary, s) for s in board.settings
              if s in set(summary["setting"])}
    trusts = {s: setting_trust(summary, s) for s in tables}
    penalties = penalty_matrices(board.rounds)
    total = total_penalty(penalties)
    order = _overall_order(tables)

    images = {}
    for setting in board.settings if plots else []:
        rounds = board.rounds[board.rounds["setting"] == setting]
        if rounds.empty:
            continue
        ranked = list(tables[setting]["strategy"])
        path = plotting.learning_curves(rounds, setting, ranked, board.plugins,
                                        plot_dir / f"learning-{slug(setting)}.png",
                                        FACET_ABOVE)
        images[f"learning:{setting}"] = path
        path = plotting.entropy_curves(rounds, setting, ranked,
                                       plot_dir / f"entropy-{slug(setting)}.png")
        images[f"entropy:{setting}"] = path
    if plots and len(total) >= 2:
        images["penalty"] = plotting.penalty_heatmap(total, len(penalties), order,
                                                     plot_dir / "penalty.png")
    written += images.values()
    penalty_csv = None
    if penalties:
        penalty_csv = plot_dir / "penalty.csv"
        _penalty_frame(penalties, total).to_csv(penalty_csv, index=False, float_format="%.6g",
                                                lineterminator="\n")
        written.append(penalty_csv)
    links = {key: f"{name}/{path.name}" for key, path in images.items()}

    out = directory / f"{name}.md"
    out.write_text(render(board, summary, tables, trusts, links,
                          penalty_csv and f"{name}/{penalty_csv.name}",
                          _class_names(board)), encoding="utf-8")
    if csv:
        csv_table(board.rounds).to_csv(directory / f"{name}.csv", index=False,
                                       float_format="%.6g", lineterminator="\n")
    (plot_dir / MANIFEST).write_text(
        json.dumps(sorted(p.name for p in written), indent=1) + "\n", encoding="utf-8")
    return out


def _remove_generated(plot_dir: Path) -> None:
    """Delete what the manifest says an earlier call wrote (plain file names only)."""
    manifest = plot_dir / MANIFEST
    if not manifest.is_file():
        return
    try:
        names = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for file_name in names if isinstance(names, list) else []:
        if isinstance(file_name, str) and file_name == Path(file_name).name:
            (plot_dir / file_name).unlink(missing_ok=True)


def _overall_order(tables: dict) -> list[str]:
    """Strategies by mean rank over settings (unranked ones last, by name)."""
    if not tables:
        return []
    frame = pd.concat(list(tables.values()))
    mean_rank = frame.groupby("strategy")["rank"].mean()
    return sorted(mean_rank.index, key=lambda s: (np.isnan(mean_rank[s]),
                                                  np.nan_to_num(mean_rank[s]), s))


def _penalty_frame(penalties: dict[str, pd.DataFrame], total: pd.DataFrame) -> pd.DataFrame:
    """Long format: setting (``all`` for the sum), winner, loser, fraction of budgets won
    (empty: not testable)."""
    rows = []
    for setting, matrix in [*sorted(penalties.items()), ("all", total)]:
        for winner in matrix.index:
            for loser in matrix.columns:
                if winner != loser:
                    rows.append({"setting": setting, "winner": winner, "loser": loser,
                                 "budgets_won": matrix.loc[winner, loser]})
    return pd.DataFrame(rows, columns=["setting", "winner", "loser", "budgets_won"])


def _class_names(board: Board) -> dict[str, tuple[str, ...]]:
    """Class names of the board's datasets, where an installed dataset factory declares them
    (a ``classes`` attribute); the records themselves do not hold them."""
    try:
        from albench.plugins import get_plugins

        registry = get_plugins().registry["datasets"]
    except Exception:  # noqa: BLE001 - names are a nicety; numbers are shown without them
        return {}
    out = {}
    for setting in board.settings:
        dataset = board.protocols[board.main[setting]].fields["dataset"]
        item = registry.get(dataset)
        try:
            classes = getattr(item.factory, "classes", None) if item else None
        except AlbenchError:  # a lazy factory that cannot be imported: no names
            classes = None
        if isinstance(classes, tuple) and all(isinstance(c, str) for c in classes):
            out[dataset] = classes
    return out
