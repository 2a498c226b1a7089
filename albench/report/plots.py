"""Leaderboard plots (seaborn on matplotlib's Agg canvas, no pyplot state).

PNGs are written without the software tag and with fixed sizes, so the same tables give
the same bytes.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

DPI = 100


def plot_text(text: str) -> str:
    """A name made safe for matplotlib: no mathtext ($) and control characters spelled out."""
    out = []
    for ch in str(text):
        if ch == "$":
            out.append(r"\$")
        elif unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def palette(strategies: list[str]) -> dict[str, tuple]:
    """One fixed colour per strategy (sorted), so every plot of a suite agrees."""
    names = sorted(strategies)
    colours = sns.color_palette("tab10" if len(names) <= 10 else "husl", len(names))
    return {plot_text(name): colour for name, colour in zip(names, colours)}


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    return path


def _curves(rounds: pd.DataFrame, value: str) -> pd.DataFrame:
    frame = rounds[["strategy", "seed", "labeled", value]].dropna().copy()
    frame["strategy"] = frame["strategy"].map(plot_text)
    return frame


def _figure(frame: pd.DataFrame) -> tuple[Figure, object]:
    """A figure with room on the right for a legend of every strategy."""
    strategies = frame["strategy"].nunique()
    fig = Figure(figsize=(9.5, max(4.5, 0.22 * strategies + 1)))
    return fig, fig.subplots()


def _band_alpha(frame: pd.DataFrame) -> float:
    """Lighter std bands when many strategies overlap."""
    return 0.2 if frame["strategy"].nunique() <= 8 else 0.07


def _legend_outside(ax, title: str | None = None) -> None:
    ax.legend(title=title, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False)


def learning_curves(rounds: pd.DataFrame, title: str, colours: dict, path: Path) -> Path:
    """Test accuracy (%) against labelled examples, mean ± std over seeds per strategy."""
    frame = _curves(rounds, "accuracy")
    frame["accuracy"] *= 100
    fig, ax = _figure(frame)
    sns.lineplot(data=frame, x="labeled", y="accuracy", hue="strategy", errorbar="sd",
                 hue_order=sorted(frame["strategy"].unique()), palette=colours, ax=ax,
                 marker="o", markersize=4, err_kws={"alpha": _band_alpha(frame)})
    ax.set(xlabel="labelled examples", ylabel="test accuracy (%)",
           title=f"{plot_text(title)}: accuracy (mean ± std over seeds)")
    _legend_outside(ax, title="strategy")
    fig.tight_layout()
    return _save(fig, path)


def learning_curves_by_plugin(rounds: pd.DataFrame, title: str, plugins: dict[str, str],
                              path: Path) -> Path:
    """Learning curves in one panel per plugin, each with random (grey, dashed) to compare.

    For suites with more strategies than one legible plot holds; colours restart in every
    panel, so that a plugin's strategies are easy to tell apart.
    """
    frame = _curves(rounds, "accuracy")
    frame["accuracy"] *= 100
    frame["plugin"] = frame["strategy"].map({plot_text(name): plot_text(plugin)
                                             for name, plugin in plugins.items()})
    groups = sorted(frame["plugin"].unique())
    columns = min(3, len(groups))
    rows = -(-len(groups) // columns)
    fig = Figure(figsize=(5 * columns, 3.6 * rows))
    axes = np.atleast_1d(fig.subplots(rows, columns, sharex=True, sharey=True)).ravel()
    reference = frame[frame["strategy"] == "random"]
    for ax, group in zip(axes, groups):
        mine = frame[(frame["plugin"] == group) & (frame["strategy"] != "random")]
        names = sorted(mine["strategy"].unique())
        if not reference.empty:
            sns.lineplot(data=reference, x="labeled", y="accuracy", errorbar=None, ax=ax,
                         color="grey", linestyle="--", label="random")
        sns.lineplot(data=mine, x="labeled", y="accuracy", hue="strategy", errorbar="sd",
                     hue_order=names, palette=sns.color_palette("tab10", len(names)), ax=ax,
                     marker="o", markersize=3, err_kws={"alpha": 0.15})
        ax.set(title=f"plugin {group}", xlabel="labelled examples", ylabel="test accuracy (%)")
        ax.legend(fontsize="x-small", loc="lower right", frameon=False)
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    fig.suptitle(f"{plot_text(title)}: accuracy by plugin (mean ± std over seeds)")
    fig.tight_layout()
    return _save(fig, path)


def entropy_curves(rounds: pd.DataFrame, title: str, colours: dict, path: Path) -> Path:
    """Entropy of the queried labels' class histogram, with the maximum log(C) dashed."""
    frame = _curves(rounds, "label_entropy")
    fig, ax = _figure(frame)
    sns.lineplot(data=frame, x="labeled", y="label_entropy", hue="strategy", errorbar="sd",
                 hue_order=sorted(frame["strategy"].unique()), palette=colours, ax=ax,
                 marker="o", markersize=4, err_kws={"alpha": _band_alpha(frame)})
    maximum = float(rounds["max_entropy"].iloc[0])
    ax.axhline(maximum, color="black", linestyle="--", linewidth=1,
               label=f"maximum log C = {maximum:.3f}")
    ax.set(xlabel="labelled examples", ylabel="label entropy (nats)",
           title=f"{plot_text(title)}: entropy of queried labels")
    ax.set_ylim(bottom=0, top=maximum * 1.05)
    _legend_outside(ax)
    fig.tight_layout()
    return _save(fig, path)


def penalty_heatmap(matrix: pd.DataFrame, settings: int, path: Path) -> Path:
    """The summed pairwise penalty matrix: row beats column."""
    shown = matrix.rename(index=plot_text, columns=plot_text)
    size = 2.5 + 0.6 * len(shown)
    fig = Figure(figsize=(size + 1.5, size))
    ax = fig.subplots()
    sns.heatmap(shown, annot=True, fmt=".2f", cmap="rocket_r", vmin=0,
                vmax=max(settings, 1), square=True, mask=np.eye(len(shown), dtype=bool),
                cbar_kws={"label": "settings won"}, ax=ax)
    ax.tick_params(axis="y", labelrotation=0)
    ax.tick_params(axis="x", labelrotation=30)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set(xlabel="column (beaten)", ylabel="row (wins)",
           title=f"pairwise penalty over {settings} setting(s)")
    fig.tight_layout()
    return _save(fig, path)
