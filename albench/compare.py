"""Per-example comparison of query strategies on one rebuilt model (``albench compare``).

The model of one round of a stored run is trained again on the CPU from the record's
queried indices and the loop's seeds, and accepted only if it reproduces the stored test
accuracy exactly. Every strategy then ranks the same unlabelled pool on that model, each
from a query context whose ``rng`` has the loop's seed for the round: by its per-example
``scores(context)`` or, for a batch strategy, by its ``selection_order(context, budget)``
(the picked examples in pick order, every other example tied last).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from albench.errors import AlbenchError
from albench.loop import (
    SelectionError,
    fit_round,
    labeled_before,
    round_context,
    validate_selection,
)
from albench.plugins import Plugins
from albench.results import ResultStore, RunRecord
from albench.scoring import top_k
from albench.types import labeled_mask
from albench.verify import ReplayError, computed_threads, replaying, torch_threads

if TYPE_CHECKING:
    from torch import nn

    from albench.loop import PreparedRun
    from albench.types import QueryContext

HEXBIN_ABOVE = 3000
"""Pools larger than this are drawn as a 2-D histogram instead of one dot per example."""


class CompareError(AlbenchError):
    """A comparison that cannot be made: no such run, a model that does not reproduce, or a
    strategy that exposes no ranking."""


def ranking_kind(strategy: object) -> str | None:
    """``"scores"``, ``"order"`` or ``None``: what a strategy exposes to rank the pool by."""
    if callable(getattr(strategy, "scores", None)):
        return "scores"
    if callable(getattr(strategy, "selection_order", None)):
        return "order"
    return None


@dataclass
class Ranking:
    """One strategy's view of the pool: higher ``values`` are picked first."""

    strategy: str
    kind: str
    values: np.ndarray
    """The scores, or for an order minus each pick's position (the rest at minus infinity)."""
    picks: np.ndarray
    """The strategy's top-``budget`` pool indices."""
    seconds: float
    stored_picks_reproduced: bool | None = None
    """For the strategy whose run was rebuilt: whether ``picks`` are the stored queries."""

    def normalised_ranks(self) -> np.ndarray:
        """Each example's rank in [0, 1], 0 = picked first; ties share their mean rank."""
        ranks = self.ranks()
        return ranks / max(len(ranks) - 1, 1)

    def ranks(self) -> np.ndarray:
        """Each example's rank, 0 = picked first; ties share their mean rank."""
        from scipy import stats

        return stats.rankdata(-self.values, method="average") - 1


def agreement(a: Ranking, b: Ranking) -> dict[str, float | int]:
    """Spearman's rho and Kendall's tau (tau-b) of two rankings, and their top-B overlap."""
    from scipy import stats

    x, y = a.ranks(), b.ranks()
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        rho = tau = float("nan")  # a constant ranking correlates with nothing
    else:
        rho = float(stats.spearmanr(x, y).statistic)
        tau = float(stats.kendalltau(x, y).statistic)
    overlap = len(set(a.picks.tolist()) & set(b.picks.tolist()))
    return {"spearman_rho": rho, "kendall_tau": tau, "top_b_overlap": overlap,
            "budget": len(a.picks)}


@dataclass
class RebuiltRound:
    """The model of one stored round, trained again, and what it takes to query it."""

    record: RunRecord
    round: int
    run: PreparedRun
    model: nn.Module
    labeled: np.ndarray
    accuracy: float
    budget: int
    threads: int

    def context(self) -> QueryContext:
        """A fresh query context for the round, its ``rng`` seeded as the loop seeded it."""
        return round_context(self.run, self.model, self.labeled, self.round)


def find_record(store: ResultStore, suite: str, strategy: str, seed: int,
                setting: str | None = None) -> RunRecord:
    """The stored run of ``strategy`` at ``seed`` in ``suite`` (and ``setting``)."""
    records = [r for r in store.records(suite) if r.spec.strategy == strategy
               and r.spec.seed == seed and (setting is None or r.spec.setting == setting)]
    if not records:
        raise CompareError(f"no stored run of strategy {strategy!r} with seed {seed} in suite "
                           f"{suite!r}" + (f", setting {setting!r}" if setting else ""))
    settings = sorted({r.spec.setting for r in records})
    if len(settings) > 1:
        raise CompareError(f"suite {suite!r} has runs of {strategy!r} in several settings; "
                           f"choose one with --setting: {', '.join(settings)}")
    return records[0]


def rebuild_round(record: RunRecord, round_: int, plugins: Plugins) -> RebuiltRound:
    """Train round ``round_``'s model of ``record`` again on the CPU.

    Uses the record's thread count when it names one, else one thread. Raises
    :class:`CompareError` unless the stored test accuracy is reproduced exactly.
    """
    label = f"{record.spec.label} round {round_}"
    if not 0 <= round_ < len(record.rounds):
        raise CompareError(f"{label}: not stored (rounds 0..{len(record.rounds) - 1} are)")
    stored = record.rounds[round_]
    device = stored.device or record.environment.get("device", "")
    if not device.startswith("cpu"):
        raise CompareError(f"{label} ran on {device!r}: a model trained there is not "
                           f"reproduced on a CPU, so its rankings cannot be compared here")
    threads = computed_threads(record, round_)
    try:
        with replaying(record, plugins, threads) as run:
            labeled = labeled_before(record, round_)
            model = fit_round(run, labeled, round_).model
            accuracy = run.trainer.accuracy(model, run.dataset.x_test, run.dataset.y_test)
    except ReplayError as exc:
        raise CompareError(f"{label}: {exc}") from None
    if accuracy != stored.accuracy:
        raise CompareError(f"{label}: the rebuilt model's test accuracy is {accuracy!r}, the "
                           f"stored one {stored.accuracy!r} (CPU, {threads} thread(s)); the "
                           f"record was not made by this code on this kind of machine, so "
                           f"comparing rankings on the rebuilt model would compare another "
                           f"model")
    unlabeled = run.dataset.pool_size - len(labeled)
    budget = min(record.spec.batch_size, unlabeled)
    return RebuiltRound(record, round_, run, model, labeled, accuracy, budget, threads)


def rank_pool(rebuilt: RebuiltRound, name: str, plugins: Plugins,
              options: dict | None = None) -> Ranking:
    """Rank the round's unlabelled pool by strategy ``name`` (built with ``options``)."""
    strategy = _call(name, "its factory", plugins.get("strategies", name).factory,
                     **(options or {}))
    kind = ranking_kind(strategy)
    if kind is None:
        raise CompareError(f"strategy {name!r} is not comparable: it exposes neither "
                           f"scores(context) nor selection_order(context, budget), only "
                           f"select, whose batch has no order over the pool")
    context = rebuilt.context()
    n, budget = len(context.unlabeled_idx), rebuilt.budget
    start = time.perf_counter()
    with torch_threads(rebuilt.threads):
        if kind == "scores":
            values = np.asarray(_call(name, "scores", strategy.scores, context))
            if not np.issubdtype(values.dtype, np.number) or values.dtype.kind == "c":
                raise CompareError(f"strategy {name!r}: scores returned {values.dtype} values; "
                                   f"it must return real numbers")
            values = values.astype(np.float64)
            if values.shape != (n,) or np.isnan(values).any():
                raise CompareError(f"strategy {name!r}: scores returned shape {values.shape} "
                                   f"(NaN: {bool(np.isnan(values).any())}) for {n} unlabelled "
                                   f"examples; it must return one number each, none NaN")
            picks = top_k(values, context.unlabeled_idx, budget)
        else:
            mask = labeled_mask(rebuilt.run.dataset.pool_size, rebuilt.labeled)
            try:
                order = _call(name, "selection_order", strategy.selection_order, context,
                              budget)
                picks = validate_selection(order, budget, mask,
                                           f"strategy {name!r} (selection_order)")
            except SelectionError as exc:
                raise CompareError(str(exc)) from exc
            position = np.searchsorted(context.unlabeled_idx, picks)
            values = np.full(n, -np.inf)
            values[position] = -np.arange(budget, dtype=np.float64)
    seconds = time.perf_counter() - start
    ranking = Ranking(name, kind, values, picks, seconds)
    record = rebuilt.record
    stored = record.rounds[rebuilt.round].queried
    if name == record.spec.strategy and stored:
        ranking.stored_picks_reproduced = set(stored) == set(picks.tolist())
    return ranking


def _call(name: str, what: str, method, *args, **kwargs):
    try:
        return method(*args, **kwargs)
    except Exception as exc:
        raise CompareError(f"strategy {name!r}: {what} raised "
                           f"{type(exc).__name__}: {exc}") from exc


@dataclass
class Comparison:
    """Every strategy's ranking of one round's pool, and their pairwise agreement."""

    rebuilt: RebuiltRound
    requested: list[str]
    rankings: list[Ranking] = field(default_factory=list)
    not_comparable: dict[str, str] = field(default_factory=dict)

    @property
    def is_matrix(self) -> bool:
        """More than two strategies were asked for: the result is a matrix."""
        return len(self.requested) > 2

    def pair(self, a: str, b: str) -> Comparison:
        """The comparison of two of the strategies ranked here."""
        by_name = {r.strategy: r for r in self.rankings}
        missing = [name for name in (a, b) if name not in by_name]
        if missing:
            raise CompareError(f"{', '.join(map(repr, missing))} not ranked here; ranked: "
                               f"{', '.join(by_name)}")
        return Comparison(self.rebuilt, [a, b], [by_name[a], by_name[b]])

    def pairs(self) -> list[dict]:
        return [{"a": a.strategy, "b": b.strategy, "kinds": [a.kind, b.kind], **agreement(a, b)}
                for a, b in combinations(self.rankings, 2)]

    def rho_matrix(self) -> np.ndarray:
        k = len(self.rankings)
        matrix = np.eye(k)
        for i, j in combinations(range(k), 2):
            matrix[i, j] = matrix[j, i] = agreement(self.rankings[i],
                                                    self.rankings[j])["spearman_rho"]
        return matrix

    def summary(self) -> dict:
        """The numbers, as JSON-ready data (no timings, so that reruns give the same file)."""
        rebuilt, spec = self.rebuilt, self.rebuilt.record.spec
        return {
            "suite": spec.suite, "setting": spec.setting, "seed": spec.seed,
            "round": rebuilt.round, "model_of": spec.strategy,
            "run_id": rebuilt.record.run_id, "labeled": len(rebuilt.labeled),
            "unlabeled": len(self.rankings[0].values) if self.rankings else None,
            "budget": rebuilt.budget, "test_accuracy": rebuilt.accuracy,
            "threads": rebuilt.threads,
            "strategies": {r.strategy: {"kind": r.kind,
                                        "stored_picks_reproduced": r.stored_picks_reproduced}
                           for r in self.rankings},
            "not_comparable": self.not_comparable,
            "pairs": [{key: (None if isinstance(v, float) and np.isnan(v) else v)
                       for key, v in pair.items()} for pair in self.pairs()],
        }


def compare(store: ResultStore, suite: str, strategies: list[str], seed: int, round_: int,
            plugins: Plugins, setting: str | None = None, model_of: str | None = None,
            progress: Callable[[str], None] | None = None) -> Comparison:
    """Rank round ``round_``'s pool of the rebuilt run of ``model_of`` (default: the first
    strategy) by each of ``strategies``.

    A pair refuses a strategy that exposes no ranking (or fails to rank); a longer list leaves
    it out, with the reason, in ``not_comparable``. Each strategy gets the options of its own
    stored run in the suite, if there is one. ``progress`` is told of each step as it ends.
    """
    if len(set(strategies)) < 2:
        raise CompareError("compare needs at least two different strategies")
    record = find_record(store, suite, model_of or strategies[0], seed, setting)
    rebuilt = rebuild_round(record, round_, plugins)
    say = progress or (lambda line: None)
    unlabeled = rebuilt.run.dataset.pool_size - len(rebuilt.labeled)
    say(f"rebuilt {record.spec.label} round {round_} on the CPU: test accuracy "
        f"{rebuilt.accuracy:.4f} as stored; ranking {unlabeled} unlabelled examples, "
        f"B = {rebuilt.budget}")
    comparison = Comparison(rebuilt, list(dict.fromkeys(strategies)))
    for name in comparison.requested:
        options = _stored_options(store, record, name)
        try:
            ranking = rank_pool(rebuilt, name, plugins, options)
        except CompareError as exc:
            if not comparison.is_matrix:
                raise
            comparison.not_comparable[name] = str(exc)
            say(f"  {name}: left out: {exc}")
            continue
        comparison.rankings.append(ranking)
        stored = ranking.stored_picks_reproduced
        note = "" if stored is None else f", stored picks {'' if stored else 'NOT '}reproduced"
        say(f"  {name}: {ranking.kind} ({ranking.seconds:.1f} s{note})")
    if len(comparison.rankings) < 2:
        raise CompareError(f"fewer than two comparable strategies: "
                           f"{'; '.join(comparison.not_comparable.values())}")
    return comparison


def _stored_options(store: ResultStore, record: RunRecord, name: str) -> dict:
    if name == record.spec.strategy:
        return record.spec.strategy_options
    for other in store.records(record.spec.suite):
        if other.spec.strategy == name and other.spec.setting == record.spec.setting:
            return other.spec.strategy_options
    return {}


def write(comparison: Comparison, directory: str | Path, stem: str) -> list[Path]:
    """``<stem>.json`` with the numbers and ``<stem>.png``: the rank scatter of a pair or the
    rho heatmap of a longer list (see :attr:`Comparison.is_matrix`)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / f"{stem}.json"
    data.write_text(json.dumps(comparison.summary(), indent=2) + "\n", encoding="utf-8")
    image = directory / f"{stem}.png"
    if comparison.is_matrix:
        rho_heatmap(comparison, image)
    else:
        rank_scatter(comparison, image)
    return [data, image]


def _title(comparison: Comparison) -> str:
    rebuilt, spec = comparison.rebuilt, comparison.rebuilt.record.spec
    return (f"{spec.suite} seed {spec.seed}, round {rebuilt.round} ({len(rebuilt.labeled)} "
            f"labelled, model of {spec.strategy})")


def rank_scatter(comparison: Comparison, path: Path) -> Path:
    """Normalised rank under one strategy against the other, one point per unlabelled
    example (a 2-D histogram above :data:`HEXBIN_ABOVE` examples)."""
    from matplotlib.figure import Figure

    from albench.report.plots import plot_text

    a, b = comparison.rankings
    x, y = a.normalised_ranks(), b.normalised_ranks()
    pair = comparison.pairs()[0]
    fig = Figure(figsize=(5.5, 5.6))
    ax = fig.subplots()
    if len(x) > HEXBIN_ABOVE:
        shown = ax.hexbin(x, y, gridsize=40, extent=(0, 1, 0, 1), cmap="viridis", mincnt=1)
        fig.colorbar(shown, ax=ax, label="examples")
    else:
        ax.scatter(x, y, s=4, alpha=0.5, linewidths=0)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal",
           xlabel=f"{plot_text(a.strategy)} rank ({a.kind}; 0 = picked first)",
           ylabel=f"{plot_text(b.strategy)} rank ({b.kind})")
    rho, tau = ("n/a" if np.isnan(v) else f"{v:.3f}" for v in (pair["spearman_rho"],
                                                               pair["kendall_tau"]))
    fig.suptitle(f"{plot_text(_title(comparison))}\nSpearman rho {rho}, Kendall tau {tau}, "
                 f"top-{pair['budget']} overlap {pair['top_b_overlap']}", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png", metadata={"Software": None})
    return path


def rho_heatmap(comparison: Comparison, path: Path) -> Path:
    """Spearman's rho between every two strategies' rankings of the pool."""
    from matplotlib.figure import Figure

    from albench.report.plots import plot_text

    matrix = comparison.rho_matrix()
    names = [plot_text(r.strategy) + (" (order)" if r.kind == "order" else "")
             for r in comparison.rankings]
    k = len(names)
    fig = Figure(figsize=(2 + 0.55 * k, 1.5 + 0.5 * k))
    ax = fig.subplots()
    shown = ax.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
    fig.colorbar(shown, ax=ax, label="Spearman rho", shrink=0.8)
    for i in range(k):
        for j in range(k):
            text = "n/a" if np.isnan(matrix[i, j]) else f"{matrix[i, j]:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize="x-small",
                    color="white" if abs(np.nan_to_num(matrix[i, j])) > 0.6 else "black")
    ax.set_xticks(range(k), names, rotation=45, ha="right", fontsize="small")
    ax.set_yticks(range(k), names, fontsize="small")
    note = ("\n(order): ranks its top-B in pick order, the rest of the pool tied"
            if any(r.kind == "order" for r in comparison.rankings) else "")
    ax.set_title(plot_text(_title(comparison)) + note, fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png", metadata={"Software": None})
    return path
