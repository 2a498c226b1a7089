"""The generated reproduction report: verdicts follow the records."""

from albench.report import load_board
from albench.report.findings import rankings_compared, render_findings, verdict
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
    assert "Ours: 0 reproduced, 1 contradicted, 0 inconclusive of 1 setting(s)." in section
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
    verdicts = {c.evidence.split(" (")[0]: c.verdict for c in finding.checks}
    assert verdicts == {"least-confidence vs bayesian-least-confidence": "reproduced",
                        "least-confidence vs dfal": "inconclusive",
                        "least-confidence vs egl": "contradicted"}


def test_ranking_finding_without_comparisons_says_so():
    text = render_findings({}, [])
    assert "Per-example rankings" in text
