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
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from albench.report.aggregate import Board
from albench.report.markdown import md, points, table
from albench.report.stats import (
    Trust,
    aubc_table,
    detectable_effect,
    mean_interval,
    pairs_needed,
    run_summary,
)
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

    def differences(self, a: str, b: str) -> pd.Series:
        """AUBC of ``a`` minus ``b``, one value per seed both ran."""
        table = aubc_table(self.summary, self.name)
        return (table[a] - table[b]).dropna()


@dataclass(frozen=True)
class Check:
    setting: str
    subject: str
    """What was compared, e.g. ``dal − coreset``: with the setting, the check's identity."""
    verdict: str
    evidence: str
    measure: str
    """The number behind the verdict in a few words (for the changes since a baseline)."""


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


def _seeds_needed(effect: float) -> str:
    """``effect``: a standardised difference (mean / SD of the paired differences)."""
    needed = pairs_needed(effect)
    return "more than 100,000" if needed is None else f"{needed:,}"


def _differs(setting: Setting, a: str, b: str, sign: int) -> Check:
    """The study says ``a`` is better (``sign`` +1) or worse (-1) than ``b``."""
    difference = setting.differences(a, b)
    mean, low, high = mean_interval(difference)
    result = verdict(low, high, sign)
    evidence = f"{_points(mean, low, high)} AUBC points over {len(difference)} seeds"
    sd = difference.std(ddof=1) if len(difference) >= 2 else float("nan")
    if result == "inconclusive" and sd > 0:
        evidence += (f"; at this mean and spread, {_seeds_needed(abs(mean) / sd)} seeds "
                     f"would decide it")
    return Check(setting.label, f"{a} − {b}", result, evidence, _measure(mean, difference))


def _measure(mean: float, difference: pd.Series) -> str:
    return f"{points(mean, True)} points, {len(difference)} seeds"


def _alike(setting: Setting, a: str, b: str) -> Check:
    """The study says ``a`` and ``b`` perform alike: reproduced when they are not separated
    and the seeds would have detected a one-point difference (80% power)."""
    difference = setting.differences(a, b)
    mean, low, high = mean_interval(difference)
    evidence = f"{_points(mean, low, high)} AUBC points over {len(difference)} seeds"
    if math.isnan(low):
        return Check(setting.label, f"{a} − {b}", "inconclusive", evidence,
                     _measure(mean, difference))
    sd = difference.std(ddof=1)
    detectable = sd * detectable_effect(len(difference))
    if low > 0 or high < 0:
        result = "contradicted"
    elif detectable <= ONE_POINT:
        result = "reproduced"
    else:
        result = "inconclusive"
        evidence += (f"; they detect {100 * detectable:.1f} points, "
                     f"{_seeds_needed(ONE_POINT / sd)} seeds would detect 1")
    return Check(setting.label, f"{a} − {b}", result, evidence, _measure(mean, difference))


def _pairs(settings: list[Setting], pairs: list[tuple[str, str]], check) -> list[Check]:
    return [check(s, a, b) for s in settings for a, b in pairs if s.has(a, b)]


def uncertainty_beats_random(settings: list[Setting]) -> Finding:
    pairs = [(name, "random") for name in STUDY_UNCERTAINTY]
    return Finding(
        "Uncertainty sampling is much better than random",
        "MNIST, batch 100: \"all of the alternatives performing much better than random "
        "sampling\" (softmax and Bayesian uncertainty, both decision rules; checked with the "
        "study's variants)", COMPARING, ["Experiments/uncertainty_comparison.png"],
        _pairs(settings, pairs, lambda s, a, b: _differs(s, a, b, +1)))


def uncertainty_variants_alike(settings: list[Setting]) -> Finding:
    pairs = [("least-confidence", "bayesian-least-confidence-study"),
             ("entropy", "bayesian-entropy-study"),
             ("least-confidence", "bayesian-least-confidence"),
             ("entropy", "bayesian-entropy"), ("least-confidence", "dfal")]
    return Finding(
        "Bayesian, adversarial and plain uncertainty perform alike",
        "\"the differences are more or less negligible\" (softmax against Bayesian "
        "uncertainty, MNIST batch 100); \"the adversarial approach is on par with the "
        "uncertainty-based approach\". Alike here: not separated, with seeds that would detect "
        f"a one-point difference. How alike their per-example rankings are is finding "
        f"{len(FINDINGS) + 1}.", COMPARING,
        ["Experiments/uncertainty_comparison.png", "Experiments/results_mnist_all.png"],
        _pairs(settings, pairs, _alike))


def egl_poor(settings: list[Setting]) -> Finding:
    checks = []
    for s in settings:
        entropy = s.table.set_index("strategy")["final_entropy"].sort_values()
        for name in ("egl-study", "egl"):
            if not s.has(name, "random"):
                continue
            place = list(entropy.index).index(name) + 1
            check = _differs(s, name, "random", -1)
            checks.append(replace(check, evidence=(
                f"{check.evidence}; label entropy {entropy[name]:.3f} nats, "
                f"{_ordinal(place)} lowest of {len(entropy)}")))
    return Finding(
        "EGL performs poorly, with the lowest label entropy",
        "MNIST, batch 100: \"Oh. This looks bad.\"; its label entropy \"is much, much lower "
        "than all the others\" (verdict on the accuracy; the entropy place is shown)",
        COMPARING, ["Experiments/results_mnist_EGL.png",
                    "Experiments/results_mnist_entropy_cumulative.png"], checks)


def coreset_above_random(settings: list[Setting]) -> Finding:
    return Finding(
        "Greedy core-set beats random, by a little, at batch 100",
        "MNIST, batch 100: \"the method beats random sampling even in its greedy formulation, "
        "although the difference isn't very large\"", COMPARING,
        ["Experiments/results_mnist_CoreSet.png"],
        _pairs(settings, [("coreset", "random")], lambda s, a, b: _differs(s, a, b, +1)))


def dal_like_coreset(settings: list[Setting]) -> Finding:
    return Finding(
        "DAL and core-set perform alike",
        "MNIST: \"our method behaves in a similar way to the core set approach, since their "
        "results are more or less identical\"", DAL_POST, ["DAL/mnist_all.png"],
        _pairs(settings, [("dal-study", "coreset"), ("dal", "coreset")], _alike))


def dal_below_uncertainty(settings: list[Setting]) -> Finding:
    pairs = [("dal-study", "least-confidence"), ("dal", "least-confidence")]
    return Finding(
        "DAL is below uncertainty sampling on MNIST",
        "MNIST: \"there is a clear distinction between the results of the uncertainty-based "
        "methods (including the adversarial approach) and the covering based methods (core "
        "set and discriminative)\"", DAL_POST, ["DAL/mnist_all.png"],
        _pairs(settings, pairs, lambda s, a, b: _differs(s, a, b, -1)))


FINDINGS: list[Callable[[list[Setting]], Finding]] = [
    uncertainty_beats_random, uncertainty_variants_alike, egl_poor, coreset_above_random,
    dal_like_coreset, dal_below_uncertainty]
STUDY_UNCERTAINTY = ("least-confidence", "entropy", "bayesian-least-confidence-study",
                     "bayesian-entropy-study")
"""The study's uncertainty methods: softmax and MC-dropout, each decision rule."""
ONE_POINT = 0.01
"""The AUBC difference (one accuracy point) a claim that two strategies are alike must be
able to detect."""


RANKING_CLAIMS = {"bayesian-least-confidence-study": "alike", "bayesian-least-confidence": "alike",
                  "dfal": "alike", "egl-study": "unrelated", "egl": "unrelated"}
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
                f"{c['suite']} {c['setting']} seed {c['seed']} round {c['round']}",
                f"least-confidence vs {pair['b']}", result,
                f"{claim} in the study; Spearman rho {rho:.2f}, Kendall tau "
                f"{pair['kendall_tau']:.2f}, top-{pair['budget']} overlap "
                f"{pair['top_b_overlap']} of {pair['budget']}, over {c['unlabeled']} "
                f"unlabelled examples scored on {c['model_of']}'s model", f"rho {rho:.2f}"))
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
    "the strategies it needs, with the study's variant of a method where albench has one "
    "(`-study`) and albench's own beside it. Verdicts: **reproduced** when the 95% interval "
    "of the paired AUBC difference over seeds lies on the study's side of 0, **contradicted** "
    "when it lies on the other side, **inconclusive** when the seeds cannot tell, with the "
    "seeds that would decide it (80% power) at the difference and spread measured. A claim "
    "that two strategies perform alike is reproduced when they are not separated and their "
    "seeds would detect a one-point difference, contradicted when they are separated. AUBC "
    "differences are in accuracy points. Our settings are smaller than the study's (see each "
    "leaderboard's protocol).")


REGENERATE = """```bash
albench merge leaderboards/results --results results   # the committed runs, to extend them
albench run -s random -s margin --suite fmnist-b100 --results results
albench export --results results --out leaderboards/results
sh leaderboards/comparisons/make.sh                    # the ranking comparisons
albench leaderboard --results leaderboards/results --out leaderboards --csv --findings \\
  --baseline leaderboards/findings-v1.json
```"""


def _boards(boards: dict[str, Board]) -> list[str]:
    """One row per suite: what its board aggregates, counted from the records."""
    rows = []
    for suite, board in sorted(boards.items()):
        runs = board.runs
        used = runs[runs["comparable"] & (runs["status"] == "complete")]
        devices = sorted(board.rounds["device"].unique())
        shared = int(used["shared_round_zero"].sum())
        rows.append([f"[{md(suite)}]({suite}.md)",
                     md(", ".join(str(v) for v in sorted(used["suite_version"].unique()))),
                     str(len(board.settings)), str(board.rounds["strategy"].nunique()),
                     str(used["seed"].nunique()), str(len(used)), str(len(runs) - len(used)),
                     "all" if shared == len(used) else f"{shared} of {len(used)}",
                     md(", ".join(devices))])
    return ["## The boards", ""] + table(
        ["suite", "version", "settings", "strategies", "seeds", "runs aggregated",
         "runs not aggregated", "shared round 0", "devices"], rows, "llrrrrrrl") + [
        ("*Shared round 0*: runs that started from their seed's one stored round-0 model (the "
        "same labels and weights for every strategy of a seed), not from a round 0 of their "
        "own."), "", "Regenerate or extend them (runs already stored are skipped):", "",
        REGENERATE, ""]


def load_comparisons(folder: Path) -> list[dict]:
    """Every ``albench compare`` JSON document in ``folder`` (none if it is missing)."""
    return [json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(Path(folder).glob("*.json"))]


def check_findings(boards: dict[str, Board], comparisons: list[dict] | None = None
                   ) -> list[Finding]:
    """Every finding checked on the boards' settings and on ``albench compare``'s JSON
    documents (see :func:`load_comparisons`)."""
    settings = settings_of(boards)
    return [f(settings) for f in FINDINGS] + [rankings_compared(comparisons or [])]


def verdicts_document(found: list[Finding], description: str = "") -> dict:
    """The verdicts as JSON, to compare a later report with (``--baseline``)."""
    return {"description": description, "verdicts": [
        {"finding": number, "title": finding.title, "setting": c.setting,
         "subject": c.subject, "verdict": c.verdict, "measure": c.measure}
        for number, finding in enumerate(found, start=1) for c in finding.checks]}


def read_baseline(path: Path) -> dict:
    """A :func:`verdicts_document` read back from ``path``; ValueError if it is not one."""
    problem = None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        fields = {"finding", "setting", "subject", "verdict", "measure"}
        if not isinstance(document.get("description"), str):
            problem = "no description"
        elif any(not fields <= set(v) for v in document["verdicts"]):
            problem = f"a verdict without one of {', '.join(sorted(fields))}"
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        raise ValueError(f"{path} is not a findings.json written by `albench leaderboard "
                         f"--findings` ({problem})")
    return document


def _changes(found: list[Finding], baseline: dict) -> list[str]:
    """What moved between the baseline's verdicts and these."""
    before = {(v["finding"], v["setting"], v["subject"]): v for v in baseline["verdicts"]}
    now = {(v["finding"], v["setting"], v["subject"]): v
           for v in verdicts_document(found)["verdicts"]}
    moved = [key for key in now if key in before and now[key]["verdict"] != before[key]["verdict"]]
    kept = [key for key in now if key in before and key not in moved]
    new = [key for key in now if key not in before]
    gone = [key for key in before if key not in now]
    lines = ["## What changed since the baseline", "", md(baseline["description"]), "",
             (f"Of the checks both made, {len(moved)} moved and {len(kept)} kept their "
             f"verdict; {len(new)} are new (a strategy or setting the baseline did not have) "
             f"and {len(gone)} are gone."), ""]
    if moved:
        lines += [f"- {k[0]}. {md(k[1])}, {md(k[2])}: {before[k]['verdict']} "
                  f"({md(before[k]['measure'])}) → **{now[k]['verdict']}** "
                  f"({md(now[k]['measure'])})" for k in moved] + [""]
    for title, keys, side in (("New", new, now), ("Gone", gone, before)):
        if keys:
            listed = "; ".join(f"{k[0]}. {k[1]}, {k[2]}: {side[k]['verdict']}" for k in keys)
            lines += [f"{title}: {md(listed)}.", ""]
    return lines


def render_findings(boards: dict[str, Board], comparisons: list[dict] | None = None,
                    baseline: dict | None = None) -> str:
    """The reproduction report as markdown; ``comparisons`` are ``albench compare``'s JSON
    documents (see :func:`load_comparisons`), ``baseline`` an earlier report's
    :func:`verdicts_document` to list what changed since."""
    found = check_findings(boards, comparisons)
    banner = ("<!-- generated by albench — do not edit; regenerate with `albench leaderboard "
              "--findings` -->")
    lines = [banner, "", "# What albench reproduces of the DAL study", "", INTRO, ""]
    lines += _boards(boards)
    for number, finding in enumerate(found, start=1):
        counts = pd.Series([c.verdict for c in finding.checks]).value_counts()
        tally = ", ".join(f"{int(counts.get(v, 0))} {v}" for v in
                          ("reproduced", "contradicted", "inconclusive"))
        figures = ", ".join(f"[{name.rsplit('/', 1)[1]}]({IMAGES}{name})"
                            for name in finding.figures)
        study = f"The study: {md(finding.study)} ([source]({finding.source}); its figures: "
        lines += [f"## {number}. {md(finding.title)}", "", f"{study}{figures}).", "",
                  f"Ours: {tally} of {len(finding.checks)} check(s).", ""]
        lines += [f"- {md(c.setting)}: **{c.verdict}** — {md(c.subject)}: {md(c.evidence)}"
                  for c in finding.checks] or ["- no setting ran the strategies it needs"]
        lines += [""]
    if baseline is not None:
        lines += _changes(found, baseline)
    return "\n".join(lines).rstrip("\n") + "\n"
