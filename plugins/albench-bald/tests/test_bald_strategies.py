"""The MC-dropout strategies: conformance, refusal without dropout, consistent masks."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from albench_bald.scores import bald
from torch import nn

from albench.mc_dropout import ConsistentMCDropout
from albench.testing import (
    check_strategy,
    get_plugins,
    model_context,
    parametrize_with_checks,
    strategy_checks,
    toy_context,
    toy_dataset,
)

NAMES = ["bayesian-least-confidence", "bayesian-entropy", "bald", "variation-ratios",
         "batchbald"]
FAST = {"passes": 4}


def factory(name):
    return get_plugins().get("strategies", name).factory


@parametrize_with_checks([
    check for name in NAMES for check in strategy_checks(
        factory(name), name=name,
        **(dict(FAST, candidates=15, samples=20) if name == "batchbald" else FAST))])
def test_conformance(check):
    check()


def test_conformance_on_a_conv_net():
    check_strategy(factory("bald"), name="bald", model="lenet", images=True, **FAST)


class NoDropout(nn.Module):
    def __init__(self, input_shape, num_classes):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(input_shape)), 8),
                                  nn.ReLU())
        self.head = nn.Linear(8, num_classes)

    def embed(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.embed(x))


@pytest.mark.parametrize("name", NAMES)
def test_model_without_dropout_is_refused_by_name(name):
    dataset = toy_dataset()
    context = model_context(dataset, NoDropout(dataset.input_shape, dataset.num_classes),
                            np.arange(10))
    with pytest.raises(ValueError, match=f"{name} uses MC dropout.*NoDropout has none"):
        factory(name)(passes=2).select(context, 3)


@pytest.fixture(scope="module")
def context():
    return toy_context(toy_dataset(n_pool=60), n_labeled=9)


def test_batchbald_with_batch_one_equals_top_bald(context):
    for seed in range(3):
        top = factory("bald")(passes=6).select(replace(context, rng=np.random.default_rng(seed)), 1)
        batch = factory("batchbald")(passes=6).select(
            replace(context, rng=np.random.default_rng(seed)), 1)
        assert batch.tolist() == top.tolist()


def test_masks_are_shared_by_all_examples_and_differ_between_passes(context):
    x = context.pool_inputs(np.array([3, 3, 5, 3]))
    with ConsistentMCDropout(context.model, 8, seed=1, strategy="t") as mc:
        probs = mc.proba(x)
    assert probs.shape == (8, 4, context.num_classes)
    np.testing.assert_array_equal(probs[:, 0], probs[:, 1])
    np.testing.assert_array_equal(probs[:, 0], probs[:, 3])
    assert not np.allclose(probs[0], probs[1])
    assert context.model.training is False


def test_chunks_see_the_same_networks_and_prefix_sharing_changes_nothing(context):
    x = context.pool_inputs(np.arange(10))
    with ConsistentMCDropout(context.model, 5, seed=2, strategy="t") as mc:
        whole = mc.proba(x)
    with ConsistentMCDropout(context.model, 5, seed=2, strategy="t") as mc:
        chunked = np.concatenate([mc.proba(x[:3]), mc.proba(x[3:])], axis=1)
    with ConsistentMCDropout(context.model, 5, seed=2, strategy="t") as mc:
        mc.share_prefix = False
        unshared = mc.proba(x)
    np.testing.assert_allclose(whole, chunked, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(whole, unshared, rtol=1e-5, atol=1e-7)


class SkipAroundDropout(nn.Module):
    """Adds a pre-dropout tensor after dropout, so repeating at the dropout layer breaks."""

    def __init__(self, dim=4, classes=3):
        super().__init__()
        self.inner = nn.Linear(dim, dim)
        self.drop = nn.Dropout1d(0.5)
        self.head = nn.Linear(dim, classes)

    def embed(self, x):
        return x + self.drop(self.inner(x)[:, :, None]).squeeze(2)

    def forward(self, x):
        return self.head(self.embed(x))


def test_a_skip_around_dropout_falls_back_to_repeating_the_input():
    model = SkipAroundDropout().eval()
    x = torch.randn(6, 4)
    with ConsistentMCDropout(model, 7, seed=0, strategy="t") as mc:
        probs = mc.proba(x)
        assert mc.share_prefix is False
    assert probs.shape == (7, 6, 3)
    with torch.no_grad():
        inner = model.inner(x)
    for t in range(7):  # channel-wise masks: each feature kept or dropped for all examples
        kept = torch.as_tensor(probs[t])
        dropped = [torch.softmax(model.head(x + inner * m), 1)
                   for m in itertools_masks(4)]
        assert any(torch.allclose(kept, d, atol=1e-6) for d in dropped)
    assert not np.allclose(bald(probs), 0)


def itertools_masks(dim):
    import itertools

    with torch.no_grad():
        for bits in itertools.product([0.0, 2.0], repeat=dim):
            yield torch.tensor(bits)


def test_batchbald_taking_every_candidate_skips_the_greedy_search(context, monkeypatch):
    from albench_bald.scores import batchbald_select

    calls = []

    def spy(*args):
        calls.append(args)
        return batchbald_select(*args)

    def fresh():
        return replace(context, rng=np.random.default_rng(0))

    monkeypatch.setattr("albench_bald.strategies.batchbald_select", spy)
    greedy = factory("batchbald")(passes=6, candidates=8).select(fresh(), 7)
    assert len(calls) == 1
    whole = factory("batchbald")(passes=6, candidates=8).select(fresh(), 8)
    assert len(calls) == 1
    top = factory("bald")(passes=6).select(fresh(), 8)
    assert set(whole) == set(top) and set(greedy) < set(top)


def test_per_example_masks_differ_across_examples_and_follow_the_seed(context):
    x = context.pool_inputs(np.array([3, 3, 3, 3]))  # one example, four times

    def proba(seed):
        with ConsistentMCDropout(context.model, 6, seed=seed, strategy="t",
                                 masks="per-example") as mc:
            return mc.proba(x)

    probs = proba(1)
    assert probs.shape == (6, 4, context.num_classes)
    for t in range(6):  # within a pass, the same input sees different masks
        assert not np.allclose(probs[t, 0], probs[t, 1])
    np.testing.assert_array_equal(probs, proba(1))
    assert not np.allclose(probs, proba(2))
    with ConsistentMCDropout(context.model, 6, seed=1, strategy="t") as mc:
        shared = mc.proba(x)
    np.testing.assert_array_equal(shared[:, 0], shared[:, 1])


def test_per_example_masks_keep_with_probability_one_minus_p():
    model = nn.Sequential(nn.Dropout(0.3))
    model.head = nn.Identity()
    x = torch.ones(500, 40)
    with ConsistentMCDropout(model, 3, seed=0, strategy="t", masks="per-example") as mc:
        mc._forward(x, repeat_at_dropout=True)
        mask = mc._mask(0, model[0], x.repeat(3, 1))
    kept = (mask > 0).float()
    assert kept.shape == (3, 500, 40)
    assert abs(kept.mean().item() - 0.7) < 0.01
    assert kept[:, 0].ne(kept[:, 1]).any()
    assert mask.max().item() == pytest.approx(1 / 0.7)


@pytest.mark.parametrize("name", ["bayesian-least-confidence", "bayesian-entropy"])
def test_per_example_rules_conform_and_reproduce(name, context):
    check_strategy(factory(name), name=name, masks="per-example", **FAST)
    strategy = factory(name)(passes=4, masks="per-example")
    runs = [strategy.select(replace(context, rng=np.random.default_rng(5)), 5) for _ in range(2)]
    assert runs[0].tolist() == runs[1].tolist()


def test_unknown_masks_are_refused():
    with pytest.raises(ValueError, match="bald: masks must be"):
        factory("bald")(masks="per-batch")


def test_context_mc_dropout_proba_takes_per_example_masks(context):
    probs = context.mc_dropout_proba(np.array([3, 3]), 4, masks="per-example")
    assert not np.allclose(probs[:, 0], probs[:, 1])


@pytest.mark.parametrize("rule", ["bayesian-least-confidence", "bayesian-entropy"])
def test_study_names_are_the_rules_with_per_example_masks(rule, context):
    study = factory(f"{rule}-study")(passes=4)
    assert study.masks == "per-example"
    check_strategy(factory(f"{rule}-study"), name=f"{rule}-study", **FAST)
    same = factory(rule)(passes=4, masks="per-example")
    picks = [s.select(replace(context, rng=np.random.default_rng(5)), 5) for s in (study, same)]
    assert picks[0].tolist() == picks[1].tolist()
