"""Progress of ``albench run``: time left from stored costs, lines for logs, and Ctrl-C."""

import sys
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import albench.plugins
from albench import hookimpl
from albench.cli import main
from albench.eta import Eta, RoundCosts
from albench.plugins import Plugins
from albench.results import ResultStore


def test_time_left_weights_each_round_by_its_strategys_cost():
    eta = Eta({"random-run": 0.001, "dfal-run": 290.0})
    assert eta.seconds_left({"random-run": 2, "dfal-run": 2}, 0) == pytest.approx(
        2 * 0.001 + 2 * 290)
    eta.round_done("dfal-run")
    # the round took 580 s, twice its estimate: what is left is scaled by the same factor
    assert eta.seconds_left({"random-run": 2, "dfal-run": 1}, 580.0) == pytest.approx(
        (2 * 0.001 + 290) * 2)


def test_runs_without_a_stored_cost_count_as_the_mean_of_the_others():
    eta = Eta({"a": 10.0, "b": 30.0, "new": None})
    assert eta.seconds_left({"a": 1, "b": 1, "new": 3}, 0) == pytest.approx(10 + 30 + 3 * 20)
    assert Eta({"new": None}).seconds_left({"new": 4}, 0) is None


def test_a_strategy_new_to_a_setting_is_scaled_from_the_settings_that_ran_it():
    def run(setting, strategy, seconds):  # what RoundCosts reads of a record
        rounds = [SimpleNamespace(train_seconds=1.0, query_seconds=seconds - 1.0)] * 3
        return SimpleNamespace(spec=SimpleNamespace(setting=setting, strategy=strategy),
                               rounds=rounds)

    costs = RoundCosts([run("b100", "random", 2.0), run("b100", "dal", 100.0),
                        run("b100", "entropy", 4.0), run("b100", "dal-ae", 50.0),
                        run("b1000", "random", 6.0), run("b1000", "margin", 9.0),
                        run("b1000", "entropy", 12.0), run("b1000", "dal-ae", 2000.0)])
    # b1000's rounds cost 3 times b100's on most strategies both ran; dal-ae's 40 times
    assert costs.estimate(SimpleNamespace(setting="b1000", strategy="dal")) == pytest.approx(300)
    assert costs.estimate(SimpleNamespace(setting="b1000", strategy="margin")) == 9.0
    # no setting that ran it shares a strategy with this one: the setting's mean
    assert costs.estimate(SimpleNamespace(setting="b10", strategy="dal")) is None
    lone = RoundCosts([run("b100", "dal", 100.0), run("b1000", "random", 6.0)])
    assert lone.estimate(SimpleNamespace(setting="b1000", strategy="dal")) == 6.0


def test_without_a_terminal_each_finished_run_is_one_line_and_costs_are_learnt(tiny_suite,
                                                                               tmp_path):
    result = CliRunner().invoke(main, ["run", "--all", "--suite", str(tiny_suite), "--seeds",
                                       "0", "--results", str(tmp_path), "--no-leaderboard",
                                       "--device", "cpu", "--executor", "inline"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    assert [line.split(": ")[0] for line in lines] == [
        "[1/2] done tiny:blobs/mlp/b5:random:seed0", "[2/2] done tiny:blobs/mlp/b5:entropy:seed0"]
    assert all("4 rounds, accuracy" in line and "left" in line for line in lines)
    assert "rounds:" not in result.output and "|" not in result.output
    costs = RoundCosts(ResultStore(tmp_path).records())
    assert set(costs.per_strategy) == {("blobs/mlp/b5", "random"), ("blobs/mlp/b5", "entropy")}


class InterruptedOnThirdQuery:
    def __init__(self):
        self.calls = 0

    def select(self, context, budget):
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt
        return context.unlabeled_idx[:budget]


class RegistersInterrupted:
    @hookimpl
    def albench_register_strategies(self, register):
        register("interrupted", InterruptedOnThirdQuery)


def test_ctrl_c_says_what_was_kept_and_the_command_that_resumes(tiny_suite, tmp_path,
                                                                monkeypatch):
    plugins = Plugins(extra_plugins=(("interrupting", RegistersInterrupted()),),
                      entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", plugins)
    args = ["run", "-s", "interrupted", "--suite", str(tiny_suite), "--seeds", "0",
            "--results", str(tmp_path), "--quiet", "--device", "cpu", "--executor", "inline"]
    monkeypatch.setattr(sys, "argv", ["/usr/bin/albench", *args, "--force"])
    result = CliRunner().invoke(main, [*args, "--force"])
    assert result.exit_code == 130
    (record,) = ResultStore(tmp_path).records()
    assert len(record.rounds) == 2 and record.status != "complete"
    assert (f"interrupted: 0 of 1 runs complete and 2 rounds of 1 unfinished run(s) are kept "
            f"in {ResultStore(tmp_path).path}") in result.output
    assert f"resume with: albench run -s interrupted --suite {tiny_suite}" in result.output
    assert "--force" not in result.output
