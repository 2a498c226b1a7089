"""``albench compare``: rank agreement, the rebuilt model and the scoring interface."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from albench.builtin.strategies import UncertaintySampling
from albench.cli import main
from albench.compare import CompareError, Ranking, agreement, compare, ranking_kind
from albench.executors import LocalExecutor
from albench.plugins import get_plugins
from albench.results import ResultStore
from albench.runner import run_specs
from albench.scoring import entropy, top_k
from albench.spec import load_suite
from albench.testing import check_strategy


def _ranking(name, values, budget, kind="scores"):
    idx = np.arange(len(values))
    return Ranking(name, kind, np.asarray(values, dtype=float), top_k(values, idx, budget), 0.0)


def test_monotone_transforms_agree_completely():
    scores = np.random.default_rng(0).normal(size=500)
    a, b = _ranking("a", scores, 25), _ranking("b", np.exp(3 * scores) + 1, 25)
    result = agreement(a, b)
    assert result["spearman_rho"] == pytest.approx(1.0)
    assert result["kendall_tau"] == pytest.approx(1.0)
    assert result["top_b_overlap"] == result["budget"] == 25
    assert np.array_equal(a.normalised_ranks(), b.normalised_ranks())
    assert a.normalised_ranks()[np.argmax(scores)] == 0.0  # picked first is at 0
    reversed_ = agreement(a, _ranking("c", -scores, 25))
    assert reversed_["spearman_rho"] == pytest.approx(-1.0) and reversed_["top_b_overlap"] == 0


def test_independent_scores_do_not_correlate():
    rng = np.random.default_rng(1)
    a, b = (_ranking(name, rng.uniform(size=4000), 100) for name in "ab")
    result = agreement(a, b)
    assert abs(result["spearman_rho"]) < 0.05  # its standard deviation is 1/sqrt(4000)
    assert abs(result["kendall_tau"]) < 0.05
    assert result["top_b_overlap"] < 15  # 2.5 expected


def test_a_selection_order_ranks_its_picks_first_and_ties_the_rest():
    values = np.full(6, -np.inf)
    values[[4, 1]] = [0.0, -1.0]  # picked 4, then 1
    ranks = Ranking("o", "order", values, np.array([4, 1]), 0.0).normalised_ranks()
    assert ranks[4] == 0.0 and ranks[1] == pytest.approx(0.2)
    assert np.allclose(ranks[[0, 2, 3, 5]], 0.7)  # mean of ranks 2..5, over 5


def test_ranking_kinds():
    pytest.importorskip("albench_bald", reason="batchbald's plugin, albench-bald, is not "
                                               "installed")
    assert ranking_kind(UncertaintySampling(entropy)) == "scores"
    batchbald = get_plugins().get("strategies", "batchbald").factory()
    assert ranking_kind(batchbald) == "order"
    assert ranking_kind(get_plugins().get("strategies", "random").factory()) is None


@pytest.fixture
def stored(tiny_suite, tmp_path):
    specs = load_suite(tiny_suite).run_specs(["entropy", "margin", "random"], [0])
    store = ResultStore(tmp_path / "results")
    summary = run_specs(specs, store, LocalExecutor(), device="cpu", progress=False)
    assert len(summary.completed) == 3
    return store


def test_rebuilt_model_reproduces_the_stored_accuracy(stored):
    comparison = compare(stored, "tiny", ["entropy", "margin"], 0, 2, get_plugins())
    record = comparison.rebuilt.record
    assert record.spec.strategy == "entropy"
    assert comparison.rebuilt.accuracy == record.rounds[2].accuracy
    assert len(comparison.rebuilt.labeled) == record.rounds[2].labeled
    ranks = {r.strategy: r for r in comparison.rankings}
    assert ranks["entropy"].stored_picks_reproduced is True
    assert ranks["margin"].stored_picks_reproduced is None
    assert len(ranks["entropy"].values) == 200 - record.rounds[2].labeled


def test_a_record_that_does_not_reproduce_is_refused(stored):
    record = next(r for r in stored.records() if r.spec.strategy == "margin")
    record.rounds[1].accuracy = 1.0 - record.rounds[1].accuracy / 2
    stored.save(record)
    with pytest.raises(CompareError, match="rebuilt model's test accuracy is .* the stored"):
        compare(stored, "tiny", ["margin", "entropy"], 0, 1, get_plugins())
    record.rounds[1].device = "cuda:0 (NVIDIA H200)"
    stored.save(record)
    with pytest.raises(CompareError, match="ran on 'cuda:0 .* not reproduced on a CPU"):
        compare(stored, "tiny", ["margin", "entropy"], 0, 1, get_plugins())


def test_a_strategy_without_a_ranking_is_refused_by_name(stored):
    with pytest.raises(CompareError, match="strategy 'random' is not comparable: it exposes "
                                           "neither scores"):
        compare(stored, "tiny", ["entropy", "random"], 0, 1, get_plugins())
    several = compare(stored, "tiny", ["entropy", "margin", "random"], 0, 1, get_plugins())
    assert list(several.not_comparable) == ["random"]
    assert [r.strategy for r in several.rankings] == ["entropy", "margin"]


def test_cli_writes_the_scatter_matrix_and_numbers(stored, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cmp"
    common = ["--suite", "tiny", "--seed", "0", "--round", "1", "--results",
              str(stored.directory), "--out", str(out)]
    result = runner.invoke(main, ["compare", "entropy", "margin", *common])
    assert result.exit_code == 0, result.output
    assert "stored picks reproduced" in result.output
    data = json.loads((out / "tiny_seed0_round1_entropy-vs-margin.json").read_text())
    assert data["pairs"][0]["a"] == "entropy" and data["pairs"][0]["budget"] == 5
    assert -1 <= data["pairs"][0]["spearman_rho"] <= 1
    assert (out / "tiny_seed0_round1_entropy-vs-margin.png").read_bytes()[:4] == b"\x89PNG"
    result = runner.invoke(main, ["compare", "entropy", "margin", "random", *common,
                                  "--pair-with", "margin", "--pair-with", "random"])
    assert result.exit_code == 0, result.output
    assert "random: left out" in result.output
    assert (out / "tiny_seed0_round1_matrix.png").exists()
    pair = json.loads((out / "tiny_seed0_round1_entropy-vs-margin.json").read_text())
    assert pair["pairs"] == data["pairs"]  # the same rankings as the pair's own run
    assert not (out / "tiny_seed0_round1_entropy-vs-random.json").exists()
    result = runner.invoke(main, ["compare", "Entropy", "least_confidence", "margin", *common,
                                  "--pair-with", "Margin"])  # folded to the stored spellings
    assert result.exit_code == 0, result.output
    assert (out / "tiny_seed0_round1_entropy-vs-margin.json").exists()
    result = runner.invoke(main, ["compare", "entropy", "margin", *common, "--pair-with", "x"])
    assert result.exit_code != 0 and "--pair-with x" in result.output
    result = runner.invoke(main, ["compare", "random", "entropy", *common])
    assert result.exit_code != 0 and "'random' is not comparable" in result.output
    result = runner.invoke(main, ["compare", "entropy", "margin", *common[:-4], "--round", "9",
                                  "--results", str(stored.directory)])
    assert result.exit_code != 0 and "round 9: not stored" in result.output


class _ScoresDisagree(UncertaintySampling):
    """Scores one way, selects the other."""

    def __init__(self):
        super().__init__(entropy)

    def select(self, context, budget):
        return top_k(-self.scores(context), context.unlabeled_idx, budget)


def test_conformance_catches_scores_that_select_does_not_follow():
    check_strategy(lambda: UncertaintySampling(entropy), name="entropy")
    with pytest.raises(AssertionError, match="not the top 10 of its scores"):
        check_strategy(_ScoresDisagree, name="disagree")


def test_cli_reads_a_folder_of_record_files_without_writing_to_it(stored, tmp_path):
    folder = tmp_path / "records"
    assert CliRunner().invoke(main, ["export", "--results", str(stored.directory), "--out",
                                     str(folder)]).exit_code == 0
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    result = CliRunner().invoke(main, ["compare", "entropy", "margin", "--suite", "tiny",
                                       "--round", "1", "--results", str(folder), "--out",
                                       str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    assert "stored picks reproduced" in result.output
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
