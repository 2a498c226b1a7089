"""The reproduction report: each of the study's findings checked against the records.

One small function per finding computes our numbers on every setting that ran the
strategies it needs and gives a verdict at that setting's power: *reproduced* (the 95%
interval of the paired AUBC difference lies on the study's side of 0), *contradicted* (it
lies on the other side) or *inconclusive* (it contains 0: the setting cannot tell, see its
smallest detectable difference). The study's words stand beside ours, quoted from its blog
(Gissin & Shalev-Shwartz, 2018-2019), with the post they come from.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from albench.report.aggregate import Board
from albench.report.markdown import md, points, table
from albench.report.stats import Trust, aubc_table, mean_interval, run_summary
from albench.report.tables import setting_table, setting_trust

BLOG = "https://dsgissin.github.io/DiscriminativeActiveLearning/2018/07/05/"
COMPARING = BLOG + "Experiments.html"
DAL_POST = BLOG + "DAL.html"
IMAGES = "https://dsgissin.github.io/DiscriminativeActiveLearning/assets/images/"


@dataclass(frozen=True)
class Setting:
    """One setting of one suite, with everything a finding reads."""

    suite: str
    name: str
    summary: pd.DataFrame
    table: pd.DataFrame
    trust: Trust

    @property
    def label(self) -> str:
        return f"{self.suite} {self.name}"

    def has(self, *strategies: str) -> bool:
        return all(s in set(self.table["strategy"]) for s in strategies)

    def difference(self, a: str, b: str) -> tuple[float, float, float, int]:
        """AUBC of ``a`` minus ``b`` over common seeds: mean, 95% interval, seeds."""
        table = aubc_table(self.summary, self.name)
        difference = (table[a] - table[b]).dropna()
        return (*mean_interval(difference), len(difference))


@dataclass(frozen=True)
class Check:
    setting: str
    verdict: str
    evidence: str


@dataclass(frozen=True)
class Finding:
    title: str
    study: str
    source: str
    figures: list[str]
    """The study's figures for it, as paths under its blog's ``assets/images/``."""
    checks: list[Check]


def settings_of(boards: dict[str, Board]) -> list[Setting]:
    out = []
    for suite, board in sorted(boards.items()):
        summary = run_summary(board.rounds)
        for name in board.settings:
            if name in set(summary["setting"]):
                out.append(Setting(suite, name, summary, setting_table(board, summary, name),
                                   setting_trust(summary, name)))
    return out


def verdict(low: float, high: float, sign: int) -> str:
    """``sign`` +1: the study says the difference is positive; -1: negative."""
    if math.isnan(low):
        return "inconclusive"
    near, far = sorted((sign * low, sign * high))  # the interval as the study signs it
    if near > 0:
        return "reproduced"
    if far < 0:
        return "contradicted"
    return "inconclusive"


def _points(mean: float, low: float, high: float) -> str:
    if math.isnan(low):
        return f"{points(mean, True)} (one seed)"
    return f"{points(mean, True)} [{points(low, True)}, {points(high, True)}]"


def _power(setting: Setting) -> str:
    if math.isnan(setting.trust.detectable):
        return "too few seeds to test"
    return (f"{setting.trust.seeds} seeds detect {100 * setting.trust.detectable:.1f} "
            f"points")


def _versus(setting: Setting, a: str, b: str, sign: int) -> Check:
    mean, low, high, seeds = setting.difference(a, b)
    return Check(setting.label, verdict(low, high, sign),
                 f"{a} − {b}: {_points(mean, low, high)} AUBC points over {seeds} seeds "
                 f"({_power(setting)})")


def uncertainty_beats_random(settings: list[Setting]) -> Finding:
    checks = [_versus(s, "margin", "random", +1) for s in settings if s.has("margin", "random")]
    return Finding(
        "Uncertainty sampling is much better than random",
        "MNIST, batch 100: \"all of the alternatives performing much better than random "
        "sampling\" (softmax and Bayesian uncertainty, both decision rules)", COMPARING,
        ["Experiments/uncertainty_comparison.png"], checks)


def uncertainty_variants_alike(settings: list[Setting]) -> Finding:
    pairs = [("least-confidence", "bayesian-least-confidence"),
             ("entropy", "bayesian-entropy"), ("least-confidence", "dfal")]
    checks = []
    for s in settings:
        present = [(a, b) for a, b in pairs if s.has(a, b)]
        if not present:
            continue
        parts, separated = [], False
        for a, b in present:
            mean, low, high, _ = s.difference(a, b)
            separated |= low > 0 or high < 0
            parts.append(f"{a} − {b}: {_points(mean, low, high)}")
        result = ("contradicted" if separated
                  else "reproduced" if s.trust.detectable <= 0.01 else "inconclusive")
        checks.append(Check(s.label, result, f"{'; '.join(parts)} AUBC points ({_power(s)})"))
    return Finding(
        "Bayesian, adversarial and plain uncertainty perform alike",
        "\"the differences are more or less negligible\" (softmax against Bayesian "
        "uncertainty, MNIST batch 100); \"the adversarial approach is on par with the "
        "uncertainty-based approach\". How alike their per-example rankings are is finding "
        f"{len(FINDINGS) + 1}.", COMPARING,
        ["Experiments/uncertainty_comparison.png", "Experiments/results_mnist_all.png"], checks)


def egl_poor(settings: list[Setting]) -> Finding:
    checks = []
    for s in settings:
        if not s.has("egl", "random"):
            continue
        entropy = s.table.set_index("strategy")["final_entropy"].sort_values()
        place = list(entropy.index).index("egl") + 1
        check = _versus(s, "egl", "random", -1)
        checks.append(Check(check.setting, check.verdict,
                            f"{check.evidence}; label entropy {entropy['egl']:.3f} nats, "
                            f"{_ordinal(place)} lowest of {len(entropy)}"))
    return Finding(
        "EGL performs poorly, with the lowest label entropy",
        "MNIST, batch 100: \"Oh. This looks bad.\"; its label entropy \"is much, much lower "
        "than all the others\" (verdict on the accuracy; the entropy place is shown)",
        COMPARING, ["Experiments/results_mnist_EGL.png",
                    "Experiments/results_mnist_entropy_cumulative.png"], checks)


def coreset_above_random(settings: list[Setting]) -> Finding:
    checks = [_versus(s, "coreset", "random", +1) for s in settings
              if s.has("coreset", "random")]
    return Finding(
        "Greedy core-set beats random, by a little, at batch 100",
        "MNIST, batch 100: \"the method beats random sampling even in its greedy formulation, "
        "although the difference isn't very large\"", COMPARING,
        ["Experiments/results_mnist_CoreSet.png"], checks)


def dal_like_coreset(settings: list[Setting]) -> Finding:
    checks = []
    for s in settings:
        if not s.has("dal", "coreset"):
            continue
        mean, low, high, seeds = s.difference("dal", "coreset")
        separated = low > 0 or high < 0
        result = ("contradicted" if separated
                  else "reproduced" if s.trust.detectable <= 0.01 else "inconclusive")
        checks.append(Check(s.label, result,
                            f"dal − coreset: {_points(mean, low, high)} AUBC points over "
                            f"{seeds} seeds ({_power(s)})"))
    return Finding(
        "DAL and core-set perform alike",
        "MNIST: \"our method behaves in a similar way to the core set approach, since their "
        "results are more or less identical\"", DAL_POST, ["DAL/mnist_all.png"], checks)


def dal_below_uncertainty(settings: list[Setting]) -> Finding:
    checks = [_versus(s, "dal", "margin", -1) for s in settings if s.has("dal", "margin")]
    return Finding(
        "DAL is below uncertainty sampling on MNIST",
        "MNIST: \"there is a clear distinction between the results of the uncertainty-based "
        "methods (including the adversarial approach) and the covering based methods (core "
        "set and discriminative)\"", DAL_POST, ["DAL/mnist_all.png"], checks)


FINDINGS: list[Callable[[list[Setting]], Finding]] = [
    uncertainty_beats_random, uncertainty_variants_alike, egl_poor, coreset_above_random,
    dal_like_coreset, dal_below_uncertainty]


RANKING_CLAIMS = {"bayesian-least-confidence": "alike", "dfal": "alike", "egl": "unrelated",
                  "egl-study": "unrelated"}
"""The blog's ranking comparisons, all against (softmax) uncertainty: least confidence."""
ALIKE, UNRELATED = 0.8, 0.2
"""Spearman's rho at or above ``ALIKE`` counts as "on the diagonal"; ``|rho|`` at or below
``UNRELATED`` as "all over the place"."""


def rankings_compared(comparisons: list[dict]) -> Finding:
    """The blog's per-example ranking comparisons, from ``albench compare``'s JSON files."""
    checks, seen = [], set()
    for c in comparisons:
        for pair in c["pairs"]:
            claim = RANKING_CLAIMS.get(pair["b"]) if pair["a"] == "least-confidence" else None
            key = (c["suite"], c["setting"], c["seed"], c["round"], c["model_of"], pair["b"])
            if claim is None or key in seen:  # a pair's file and its matrix hold the same
                continue
            seen.add(key)
            rho = pair["spearman_rho"]
            if claim == "alike":
                result = ("reproduced" if rho >= ALIKE else
                          "contradicted" if rho <= UNRELATED else "inconclusive")
            else:
                result = ("reproduced" if abs(rho) <= UNRELATED else
                          "contradicted" if rho >= ALIKE else "inconclusive")
            checks.append(Check(
                f"{c['suite']} {c['setting']} seed {c['seed']} round {c['round']}", result,
                f"least-confidence vs {pair['b']} ({claim} in the study): Spearman rho "
                f"{rho:.2f}, Kendall tau {pair['kendall_tau']:.2f}, top-{pair['budget']} "
                f"overlap {pair['top_b_overlap']} of {pair['budget']}, over {c['unlabeled']} "
                f"unlabelled examples scored on {c['model_of']}'s model"))
    return Finding(
        "Per-example rankings: uncertainty ranks the pool like Bayesian uncertainty and DFAL, "
        "unlike EGL",
        "MNIST: uncertainty against Bayesian uncertainty, \"the two methods rank the unlabeled "
        "examples in a very similar way\"; against the adversarial method, \"It seems so!\"; "
        "against EGL, \"We expect there to be little correlation\" (scatter plots of the two "
        f"rankings; here rho >= {ALIKE} counts as alike and |rho| <= {UNRELATED} as unrelated; "
        "our scatters are in leaderboards/comparisons/)", COMPARING,
        [f"Experiments/results_mnist_ranking_uncertainty_{name}.png"
         for name in ("bayesian", "adversarial", "egl")], checks)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


INTRO = (
    "Generated by `albench leaderboard --findings` from the run records in "
    "`leaderboards/results/`; do not edit by hand. Each finding of the study (Gissin & "
    "Shalev-Shwartz, Discriminative Active Learning) is checked on every setting that ran "
    "the strategies it needs. Verdicts: **reproduced** when the 95% interval of the paired "
    "AUBC difference over seeds lies on the study's side of 0, **contradicted** when it lies "
    "on the other side (or, for a claim that two strategies are alike, when they are "
    "separated), **inconclusive** when the setting's seeds cannot tell; each line gives the "
    "smallest difference its seeds detect with 80% power. AUBC differences are in accuracy "
    "points. Our settings are smaller than the study's (see each leaderboard's protocol).")


REGENERATE = """```bash
albench merge leaderboards/results --results results   # the committed runs, to extend them
albench run -s random -s margin --suite fmnist-b100 --results results --threads 1
albench export --results results --out leaderboards/results
albench leaderboard --results leaderboards/results --out leaderboards --csv --findings
```"""


def _boards(boards: dict[str, Board]) -> list[str]:
    """One row per suite: what its board aggregates, counted from the records."""
    rows = []
    for suite, board in sorted(boards.items()):
        runs = board.runs
        used = runs[runs["comparable"] & (runs["status"] == "complete")]
        devices = sorted(board.rounds["device"].unique())
        rows.append([f"[{md(suite)}]({suite}.md)", str(len(board.settings)),
                     str(board.rounds["strategy"].nunique()),
                     str(used["seed"].nunique()), str(len(used)), str(len(runs) - len(used)),
                     md(", ".join(devices))])
    return ["## The boards", ""] + table(
        ["suite", "settings", "strategies", "seeds", "runs aggregated", "runs not aggregated",
         "devices"], rows, "lrrrrrl") + [
        "Regenerate or extend them (runs already stored are skipped):", "", REGENERATE, ""]


def load_comparisons(folder: Path) -> list[dict]:
    """Every ``albench compare`` JSON document in ``folder`` (none if it is missing)."""
    return [json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(Path(folder).glob("*.json"))]


def render_findings(boards: dict[str, Board], comparisons: list[dict] | None = None) -> str:
    """The reproduction report as markdown; ``comparisons`` are ``albench compare``'s JSON
    documents (see :func:`load_comparisons`)."""
    settings = settings_of(boards)
    banner = ("<!-- generated by albench — do not edit; regenerate with `albench leaderboard "
              "--findings` -->")
    lines = [banner, "", "# What albench reproduces of the DAL study", "", INTRO, ""]
    lines += _boards(boards)
    found = [f(settings) for f in FINDINGS] + [rankings_compared(comparisons or [])]
    for number, finding in enumerate(found, start=1):
        counts = pd.Series([c.verdict for c in finding.checks]).value_counts()
        tally = ", ".join(f"{int(counts.get(v, 0))} {v}" for v in
                          ("reproduced", "contradicted", "inconclusive"))
        figures = ", ".join(f"[{name.rsplit('/', 1)[1]}]({IMAGES}{name})"
                            for name in finding.figures)
        study = f"The study: {md(finding.study)} ([source]({finding.source}); its figures: "
        lines += [f"## {number}. {md(finding.title)}", "", f"{study}{figures}).", "",
                  f"Ours: {tally} of {len(finding.checks)} setting(s).", ""]
        lines += [f"- {md(c.setting)}: **{c.verdict}** — {md(c.evidence)}"
                  for c in finding.checks] or ["- no setting ran the strategies it needs"]
        lines += [""]
    return "\n".join(lines).rstrip("\n") + "\n"
