"""Leaderboard plots (seaborn on matplotlib's Agg canvas, no pyplot state).

PNGs are written without the software tag and with fixed sizes, so the same tables give
the same bytes.
"""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

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


FAMILY_COLOURS = {
    # uncertainty: blues
    "margin": "#1f4e9c", "entropy": "#4f9bd9", "least-confidence": "#9ecae1",
    # Bayesian (MC dropout): greens
    "bald": "#1b7837", "batchbald": "#5aae61", "bayesian-entropy": "#a6dba0",
    "bayesian-least-confidence": "#7b9f35", "variation-ratios": "#00a087",
    # ensembles and committees: purples
    "ensemble-bald": "#542788", "ensemble-entropy": "#8073ac",
    "ensemble-variation-ratios": "#b2abd2", "qbc": "#c51b7d",
    # coverage: oranges and browns
    "coreset": "#d95f02", "coreset-mip": "#fdae61", "typiclust": "#8c510a",
    # discriminative: reds
    "dal": "#d62728", "dal-ae": "#f4a582", "dal-raw": "#67001f", "dal-stochastic": "#e7298a",
    # gradients and adversarial
    "badge": "#17becf", "egl": "#bcbd22", "dfal": "#7f7f7f",
    "random": "#000000",
}
"""Fixed colours of the strategies albench ships, by family; others get ``name_colour``."""


def name_colour(name: str) -> tuple[float, float, float]:
    """A colour that depends on ``name`` only: the same on every board and every rerun."""
    if name in FAMILY_COLOURS:
        return to_rgb(FAMILY_COLOURS[name])
    digest = hashlib.sha256(name.encode()).digest()
    hue = digest[0] / 256 * 360
    lightness = 35 + digest[1] % 4 * 10
    return tuple(sns.husl_palette(1, h=hue / 360, l=lightness / 100, s=0.9)[0])


def palette(strategies: list[str]) -> dict[str, tuple]:
    """Each strategy's colour, keyed by its plot text."""
    return {plot_text(name): name_colour(name) for name in strategies}


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


def versus_reference(rounds: pd.DataFrame, reference: str = "random") -> pd.DataFrame:
    """Accuracy (points) minus the reference's of the same seed and round, per row; the
    reference's own rows (all zero) are dropped. Raw accuracy if the reference is absent."""
    frame = rounds[["strategy", "seed", "round", "labeled", "accuracy"]].copy()
    frame["accuracy"] *= 100
    if reference not in set(frame["strategy"]):
        return frame
    base = frame[frame["strategy"] == reference].set_index(["seed", "round"])["accuracy"]
    frame = frame[frame["strategy"] != reference]
    keys = pd.MultiIndex.from_frame(frame[["seed", "round"]])
    frame["accuracy"] = frame["accuracy"].to_numpy() - base.reindex(keys).to_numpy()
    return frame.dropna(subset=["accuracy"])


def learning_curves(rounds: pd.DataFrame, title: str, order: list[str],
                    plugins: dict[str, str], path: Path, facet_above: int = 8) -> Path:
    """Test accuracy minus random's (random is the zero line), mean ± std over seeds, legend
    in ``order`` (rank order); above ``facet_above`` strategies one panel per plugin, each
    with its own y-axis."""
    relative = "random" in set(rounds["strategy"])
    frame = versus_reference(rounds)
    names = [name for name in order if name in set(frame["strategy"])]
    groups = {"": names}
    if len(names) > facet_above:
        groups = {}
        for name in names:
            groups.setdefault(plugins.get(name, "?"), []).append(name)
        groups = dict(sorted(groups.items()))
    columns = min(3, len(groups))
    rows = -(-len(groups) // columns)
    single = len(groups) == 1
    fig = Figure(figsize=(9.5, max(4.5, 0.22 * len(names) + 1)) if single
                 else (5.2 * columns, 3.8 * rows))
    axes = np.atleast_1d(fig.subplots(rows, columns, sharex=True, sharey=False)).ravel()
    ylabel = "accuracy minus random (points)" if relative else "test accuracy (%)"
    for ax, (group, members) in zip(axes, groups.items()):
        mine = frame[frame["strategy"].isin(members)].copy()
        mine["strategy"] = mine["strategy"].map(plot_text)
        hue_order = [plot_text(n) for n in members]
        sns.lineplot(data=mine, x="labeled", y="accuracy", hue="strategy", errorbar="sd",
                     hue_order=hue_order, palette={plot_text(n): name_colour(n) for n in members},
                     ax=ax, marker="o", markersize=3 if not single else 4,
                     err_kws={"alpha": 0.2 if len(members) <= 8 else 0.07})
        if relative:
            ax.axhline(0, color="black", linestyle="--", linewidth=1, label="random")
        ax.set(xlabel="labelled examples", ylabel=ylabel,
               title=f"plugin {plot_text(group)}" if group else None)
        if single:
            _legend_outside(ax, title="strategy (rank order)")
        else:
            ax.legend(fontsize="x-small", loc="best", frameon=False)
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    what = "accuracy minus random" if relative else "accuracy"
    heading = f"{plot_text(title)}: {what} (mean ± std over seeds)"
    if single:
        axes[0].set_title(heading)
    else:
        fig.suptitle(heading + "; each panel its own scale")
    fig.tight_layout()
    return _save(fig, path)


def entropy_curves(rounds: pd.DataFrame, title: str, order: list[str], path: Path) -> Path:
    """Entropy of the queried labels' class histogram, with the maximum log(C) dashed."""
    frame = _curves(rounds, "label_entropy")
    fig, ax = _figure(frame)
    names = [n for n in order if n in set(rounds["strategy"])]
    sns.lineplot(data=frame, x="labeled", y="label_entropy", hue="strategy", errorbar="sd",
                 hue_order=[plot_text(n) for n in names], palette=palette(names), ax=ax,
                 marker="o", markersize=4, err_kws={"alpha": _band_alpha(frame)})
    maximum = float(rounds["max_entropy"].iloc[0])
    ax.axhline(maximum, color="black", linestyle="--", linewidth=1,
               label=f"maximum log C = {maximum:.3f}")
    ax.set(xlabel="labelled examples", ylabel="label entropy (nats)",
           title=f"{plot_text(title)}: entropy of queried labels")
    ax.set_ylim(bottom=0, top=maximum * 1.05)
    _legend_outside(ax, title="strategy (rank order)")
    fig.tight_layout()
    return _save(fig, path)


def penalty_heatmap(matrix: pd.DataFrame, settings: int, order: list[str], path: Path
                    ) -> Path:
    """The summed pairwise penalty matrix in ``order`` (rank order): row beats column.
    Zeros are left blank; pairs testable in no setting are grey and marked "n/t"."""
    names = [n for n in order if n in matrix.index]
    shown = matrix.loc[names, names].rename(index=plot_text, columns=plot_text)
    values = shown.to_numpy(dtype=float)
    labels = np.where(values > 0, np.char.mod("%.2f", np.nan_to_num(values)), "")
    size = 2.5 + 0.45 * len(shown)
    fig = Figure(figsize=(size + 1.5, size))
    ax = fig.subplots()
    sns.heatmap(shown, annot=labels, fmt="", cmap="rocket_r", vmin=0,
                vmax=max(settings, 1), square=True, mask=np.eye(len(shown), dtype=bool),
                annot_kws={"fontsize": 7 if len(shown) > 12 else 9},
                cbar_kws={"label": f"fraction of budgets won, summed over {settings} "
                                   f"setting(s)"}, ax=ax)
    for row, column in zip(*np.nonzero(np.isnan(values))):
        if row != column:  # seaborn leaves NaN cells blank: grey them and say why
            ax.add_patch(Rectangle((column, row), 1, 1, color="#d9d9d9"))
            ax.text(column + 0.5, row + 0.5, "n/t", ha="center", va="center",
                    fontsize=7 if len(shown) > 12 else 9)
    ax.tick_params(axis="y", labelrotation=0)
    ax.tick_params(axis="x", labelrotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set(xlabel="column: beaten (rank order)", ylabel="row: wins (rank order)",
           title=f"pairwise penalty over {settings} setting(s); blank = 0, n/t = not testable")
    fig.tight_layout()
    return _save(fig, path)
