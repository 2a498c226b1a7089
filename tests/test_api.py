"""``albench.run``: the Python entry point, and the example in docs/python-api.md."""

import re
from pathlib import Path

import numpy as np
import pytest

import albench
import albench.plugins
from albench.preflight import PreflightError
from albench.results import ResultStore

DOC = Path(__file__).parents[1] / "docs" / "python-api.md"


class Highest:
    """The unlabelled examples with the highest indices."""

    name = "highest"

    def select(self, context, budget):
        return np.sort(context.unlabeled_idx)[-budget:]


def test_inline_strategies_run_beside_registered_ones_and_return_the_round_table(
        tiny_suite, tmp_path):
    before = albench.plugins.get_plugins()
    table = albench.run(suite=tiny_suite, strategies=["random", Highest()], seeds=[0],
                        results=tmp_path / "results", progress=False, device="cpu")
    assert sorted(set(table["strategy"])) == ["highest", "random"]
    assert sorted(table.loc[table["strategy"] == "highest", "round"]) == [0, 1, 2, 3]
    assert table["accuracy"].between(0, 1).all()
    assert albench.plugins.get_plugins() is before
    again = albench.run(suite=tiny_suite, strategies=["random", Highest()], seeds=[0],
                        results=tmp_path / "results", progress=False, device="cpu")
    assert again.equals(table)


class Every:
    """Every ``step``-th unlabelled example: a class, built for each run with its options."""

    def __init__(self, step: int = 1):
        self.step = step

    def select(self, context, budget):
        return context.unlabeled_idx[::self.step][:budget]


def test_an_inline_class_is_built_with_its_options_and_unknown_ones_are_refused(tiny_suite,
                                                                                tmp_path):
    table = albench.run(suite=tiny_suite, strategies=[Every], seeds=[0], results=tmp_path / "r",
                        strategy_options={"every": {"step": 3}}, progress=False, device="cpu")
    assert set(table["strategy"]) == {"every"} and len(table) == 4
    (record,) = ResultStore(tmp_path / "r").records()
    assert record.spec.strategy_options == {"step": 3}
    with pytest.raises(PreflightError, match="it accepts step"):
        albench.run(suite=tiny_suite, strategies=[Every], results=tmp_path / "r2",
                    strategy_options={"every": {"stpe": 3}})


def test_an_inline_strategy_may_not_take_a_registered_name(tiny_suite, tmp_path):
    class Entropy(Highest):
        name = "entropy"

    with pytest.raises(ValueError, match="'entropy', a name already taken"):
        albench.run(suite=tiny_suite, strategies=[Entropy()], results=tmp_path / "r")


def test_bad_options_fail_before_anything_is_written(tiny_suite, tmp_path):
    with pytest.raises(PreflightError, match="strategy 'random'.*rejects the options"):
        albench.run(suite=tiny_suite, strategies=["random"], results=tmp_path / "r",
                    strategy_options={"random": {"nope": 1}})
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_the_documented_example_runs(tmp_path, monkeypatch):
    code = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)[-1]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(DOC), "exec"), {})  # noqa: S102 -- the documented example
    assert (tmp_path / "my-results" / "albench.sqlite").is_file()
