"""The ``mix:A+B`` combinator."""

import numpy as np
import pytest

from albench.plugins import get_plugins
from albench.scoring import entropy, top_k
from albench.testing import check_strategy, toy_context


def _factory(name):
    return get_plugins().get("strategies", name).factory


def test_mix_conforms():
    check_strategy(_factory("mix:random+entropy"), name="mix:random+entropy")


def test_mix_splits_the_batch_without_duplicates():
    context = toy_context()
    budget = 9
    picked = _factory("mix:entropy+entropy")().select(context, budget)
    scores = entropy(context.predict_proba(context.unlabeled_idx))
    # A takes the ceil(9/2) = 5 most uncertain, B the next 4 from the rest.
    assert list(picked[:5]) == list(top_k(scores, context.unlabeled_idx, 5))
    assert list(picked) == list(top_k(scores, context.unlabeled_idx, budget))
    assert len(set(picked.tolist())) == budget


def test_mix_budget_of_one_uses_only_the_first_strategy():
    context = toy_context()
    picked = _factory("mix:entropy+random")().select(context, 1)
    scores = entropy(context.predict_proba(context.unlabeled_idx))
    assert list(picked) == list(top_k(scores, context.unlabeled_idx, 1))


def test_mix_is_not_listed_but_resolves():
    plugins = get_plugins()
    assert "mix:" not in plugins.names("strategies")
    assert plugins.get("strategies", "mix:random+margin").name == "mix:random+margin"


@pytest.mark.parametrize("name", ["mix:random", "mix:random+", "mix:a+b+c"])
def test_mix_rejects_malformed_names(name):
    with pytest.raises(ValueError, match="two strategies"):
        _factory(name)()


def test_mix_reports_unknown_parts():
    with pytest.raises(KeyError, match="no-such"):
        _factory("mix:random+no-such")()


def test_mix_passes_options_on():
    class Fixed:
        def __init__(self, offset=0):
            self.offset = offset

        def select(self, context, budget):
            return context.unlabeled_idx[self.offset:self.offset + budget]

    from albench.builtin.mixing import mix

    class Plugins:
        def get(self, kind, name):
            class Item:
                factory = Fixed
            return Item

    context = toy_context()
    picked = mix("fixed+fixed", Plugins(), first_options={"offset": 3}).select(context, 4)
    # A takes positions 3,4; B sees the pool without them and takes its first two.
    expected = np.concatenate([context.unlabeled_idx[3:5], context.unlabeled_idx[:2]])
    assert list(picked) == list(expected)
