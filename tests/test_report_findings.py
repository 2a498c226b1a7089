"""The generated reproduction report: verdicts follow the records."""

import json

import pytest

from albench.report import load_board
from albench.report.findings import (
    _alike,
    check_findings,
    coreset_above_random,
    rankings_compared,
    read_baseline,
    render_findings,
    settings_of,
    verdict,
    verdicts_document,
)
from albench.report.stats import pairs_needed
from albench.results import ResultStore
from tests.test_report_leaderboard import QUERIES, make_record


def _store(tmp_path, coreset_shift: float) -> ResultStore:
    store = ResultStore(tmp_path / "results")
    for seed in range(4):
        base = [0.5, 0.6 + 0.02 * seed, 0.7 + 0.01 * seed, 0.8 - 0.01 * seed]
        store.save(make_record("random", seed, base, QUERIES))
        store.save(make_record("coreset", seed, [base[0]] + [a + coreset_shift + 0.001 * seed
                                                             for a in base[1:]], QUERIES))
    return store


def test_coreset_below_random_contradicts_the_study(tmp_path):
    store = _store(tmp_path, -0.05)
    text = render_findings({"toy": load_board(store, "toy")})
    section = text.split("## 4. ")[1].split("\n## ")[0]
    assert "toy blobs/mlp/b2: **contradicted** — coreset − random: -" in section
    assert "Ours: 0 reproduced, 1 contradicted, 0 inconclusive of 1 check(s)." in section
    assert "no setting ran the strategies it needs" in text.split("## 3. ")[1]  # no EGL


def test_coreset_above_random_reproduces_the_study(tmp_path):
    text = render_findings({"toy": load_board(_store(tmp_path, 0.05), "toy")})
    assert "toy blobs/mlp/b2: **reproduced**" in text.split("## 4. ")[1].split("\n## ")[0]


def test_verdict_signs():
    assert verdict(0.01, 0.03, +1) == "reproduced"
    assert verdict(0.01, 0.03, -1) == "contradicted"
    assert verdict(-0.03, -0.01, -1) == "reproduced"
    assert verdict(-0.01, 0.02, +1) == "inconclusive"
    assert verdict(float("nan"), float("nan"), +1) == "inconclusive"


def _comparison(rhos: dict[str, float]) -> dict:
    return {"suite": "toy", "setting": "digits/mlp/b10", "seed": 0, "round": 2,
            "unlabeled": 500, "model_of": "least-confidence",
            "pairs": [{"a": "least-confidence", "b": b, "spearman_rho": rho, "kendall_tau": rho,
                       "top_b_overlap": 3, "budget": 10} for b, rho in rhos.items()]}


def test_ranking_finding_follows_the_blogs_claims():
    finding = rankings_compared([_comparison({"bayesian-least-confidence": 0.95, "dfal": 0.5,
                                              "egl": 0.9, "margin": 0.99})])
    verdicts = {c.subject: c.verdict for c in finding.checks}
    assert verdicts == {"least-confidence vs bayesian-least-confidence": "reproduced",
                        "least-confidence vs dfal": "inconclusive",
                        "least-confidence vs egl": "contradicted"}


def test_ranking_finding_without_comparisons_says_so():
    text = render_findings({}, [])
    assert "Per-example rankings" in text


def test_an_inconclusive_check_says_how_many_seeds_would_decide_it(tmp_path):
    store = ResultStore(tmp_path / "results")
    for seed in range(4):
        base = [0.5, 0.6 + 0.02 * seed, 0.7 + 0.01 * seed, 0.8 - 0.01 * seed]
        shift = (0.02 if seed % 2 else -0.015) + 0.001 * seed  # small mean, large spread
        store.save(make_record("random", seed, base, QUERIES))
        store.save(make_record("coreset", seed, [base[0]] + [a + shift for a in base[1:]],
                               QUERIES))
    check = coreset_above_random(settings_of({"toy": load_board(store, "toy")})).checks[0]
    assert check.verdict == "inconclusive"
    needed = int(check.evidence.split("spread, ")[1].split(" seeds")[0].replace(",", ""))
    differences = (settings_of({"toy": load_board(store, "toy")})[0]
                   .differences("coreset", "random"))
    effect = abs(differences.mean()) / differences.std(ddof=1)
    assert needed == pairs_needed(effect) > 4


def _alike_check(folder, shifts: list[float]):
    store = ResultStore(folder)
    for seed, shift in enumerate(shifts):
        base = [0.5, 0.6, 0.7, 0.8]
        store.save(make_record("random", seed, base, QUERIES))
        store.save(make_record("coreset", seed, [0.5] + [a + shift for a in base[1:]], QUERIES))
    return _alike(settings_of({"toy": load_board(store, "toy")})[0], "coreset", "random")


def test_alike_needs_seeds_that_detect_one_point(tmp_path):
    close = _alike_check(tmp_path / "close", [0.001, -0.001, 0.0005, -0.0005])
    assert close.verdict == "reproduced"
    noisy = _alike_check(tmp_path / "noisy", [0.03, -0.04, 0.02])
    assert noisy.verdict == "inconclusive" and "seeds would detect 1" in noisy.evidence
    apart = _alike_check(tmp_path / "apart", [0.03, 0.031, 0.029, 0.03])
    assert apart.verdict == "contradicted"


def test_the_report_lists_verdicts_that_moved_since_a_baseline(tmp_path):
    boards = {"toy": load_board(_store(tmp_path, -0.05), "toy")}
    before = verdicts_document(check_findings(boards), "the earlier records")
    later = {"toy": load_board(_store(tmp_path / "later", 0.05), "toy")}
    text = render_findings(later, [], before)
    changes = text.split("## What changed since the baseline")[1]
    assert "the earlier records" in changes
    assert "1 moved" in changes
    assert "4. toy blobs/mlp/b2, coreset − random: contradicted (" in changes
    assert "→ **reproduced** (" in changes


def test_a_baseline_that_is_not_a_verdicts_document_is_refused(tmp_path):
    path = tmp_path / "findings.json"
    path.write_text('{"verdicts": [{"finding": 1}], "description": ""}')
    with pytest.raises(ValueError, match="not a findings.json .*a verdict without one of"):
        read_baseline(path)
    path.write_text(json.dumps(verdicts_document([], "none")))
    assert read_baseline(path)["description"] == "none"
