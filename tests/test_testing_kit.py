"""The plugin authors' kit: each conformance check catches the bug it names."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from albench.builtin.datasets import blobs
from albench.builtin.networks import MLP, LeNet
from albench.builtin.strategies import RandomSampling, UncertaintySampling
from albench.scoring import entropy
from albench.testing import (
    check_dataset,
    check_model,
    check_strategy,
    parametrize_with_checks,
    strategy_checks,
    toy_context,
    toy_dataset,
)

# --- check_strategy -------------------------------------------------------------------------

class ShortBatch:
    def select(self, context, budget):
        return context.unlabeled_idx[:budget - 1]


class Duplicates:
    def select(self, context, budget):
        return np.repeat(context.unlabeled_idx[:1], budget)


class PicksLabeled:
    def select(self, context, budget):
        return np.concatenate([context.labeled_idx, context.unlabeled_idx])[:budget]


class OutOfRange:
    def select(self, context, budget):
        return np.arange(budget) + context.dataset.pool_size


class GlobalNumpy:
    def select(self, context, budget):
        return np.random.choice(context.unlabeled_idx, budget, replace=False)


class GlobalTorch:
    def select(self, context, budget):
        order = torch.randperm(len(context.unlabeled_idx))[:budget].numpy()
        return context.unlabeled_idx[order]


class FreshEntropy:
    def select(self, context, budget):
        return np.random.default_rng().choice(context.unlabeled_idx, budget, replace=False)


class Argpartition:
    """Breaks when the budget is the whole unlabelled pool (kth out of bounds)."""

    def select(self, context, budget):
        scores = entropy(context.predict_proba(context.unlabeled_idx))
        return context.unlabeled_idx[np.argpartition(-scores, budget)[:budget]]


class ClassBalanced:
    """Breaks when only one class has been seen."""

    def select(self, context, budget):
        seen, counts = np.unique(context.labeled_labels, return_counts=True)
        runner_up = seen[np.argsort(counts)[-2]]  # IndexError with one class
        probs = context.predict_proba(context.unlabeled_idx)[:, runner_up]
        return context.unlabeled_idx[np.argsort(-probs, kind="stable")[:budget]]


class NeedsLabels:
    def select(self, context, budget):
        majority = np.bincount(context.labeled_labels).argmax()
        probs = context.predict_proba(context.unlabeled_idx)[:, majority]
        return context.unlabeled_idx[np.argsort(probs, kind="stable")[:budget]]


class ResetsHead:
    def select(self, context, budget):
        with torch.no_grad():
            context.model.head.weight.zero_()
        return context.rng.choice(context.unlabeled_idx, budget, replace=False)


class RemembersFirstRng:
    """Keeps a random order drawn at its first query: a resumed run would draw another."""

    def __init__(self):
        self.order = None

    def select(self, context, budget):
        if self.order is None:
            self.order = context.rng.permutation(context.dataset.pool_size)
        return self.order[~context.labeled_mask()[self.order]][:budget]


class RemembersRunRng(RemembersFirstRng):
    """The same, drawn from ``context.run_rng()`` and kept per run: what a resume repeats."""

    def select(self, context, budget):
        key = context.run_rng().integers(2**63)
        if self.order is None or self.order[0] != key:
            self.order = (key, context.run_rng().permutation(context.dataset.pool_size))
        order = self.order[1]
        return order[~context.labeled_mask()[order]][:budget]


class SwallowsOptions:
    def __init__(self, **options):
        pass

    def select(self, context, budget):
        return context.rng.choice(context.unlabeled_idx, budget, replace=False)


def test_builtin_strategies_conform():
    check_strategy(RandomSampling, name="random")
    check_strategy(lambda: UncertaintySampling(entropy), name="entropy")


def test_state_kept_between_queries_conforms_when_drawn_from_the_run_rng():
    check_strategy(RemembersRunRng)


def test_a_cnn_strategy_conforms_on_toy_images():
    check_strategy(lambda: UncertaintySampling(entropy), name="entropy", model="lenet",
                   images=True)


@pytest.mark.parametrize("strategy, message", [
    (ShortBatch, "returned 9 indices for a budget of 10"),
    (Duplicates, "duplicate indices"),
    (PicksLabeled, "already-labelled"),
    (OutOfRange, "outside the pool"),
    (GlobalNumpy, "changed global random state"),
    (GlobalTorch, "changed global random state"),
    (FreshEntropy, "not deterministic"),
    (RemembersFirstRng, "selects differently once it has answered another run's query"),
    (Argpartition, "raised ValueError with a budget equal to the whole unlabelled pool"),
    (ClassBalanced, "raised IndexError with labelled examples of a single class"),
    (NeedsLabels, "raised ValueError with an empty labelled set"),
    (ResetsHead, "modified the context"),
    (SwallowsOptions, "unknown option"),
])
def test_check_strategy_names_each_bug(strategy, message):
    with pytest.raises(AssertionError, match=message) as caught:
        check_strategy(strategy)
    assert strategy.__name__ in str(caught.value) or message == "unknown option"


class SwallowsOptionsAndDrawsGlobally:
    def __init__(self, **options):
        pass

    def select(self, context, budget):
        return np.random.choice(context.unlabeled_idx, budget, replace=False)


def test_check_strategy_reports_every_failing_check_not_just_the_first():
    with pytest.raises(AssertionError) as caught:
        check_strategy(SwallowsOptionsAndDrawsGlobally)
    message = str(caught.value)
    assert "unknown option" in message and "changed global random state" in message
    assert "- rejects_unknown_options:" in message and "- is_deterministic:" in message


def test_each_check_is_named_and_runs_alone():
    checks = {check.name: check for check in strategy_checks(GlobalNumpy)}
    assert {"rejects_unknown_options", "is_deterministic", "ranks_as_it_selects"} <= set(checks)
    checks["rejects_unknown_options"]()
    with pytest.raises(AssertionError, match="changed global random state"):
        checks["selects_valid_indices"]()


def test_parametrize_with_checks_makes_one_item_per_check_and_marks_expected_failures():
    checks = strategy_checks(GlobalNumpy, name="global")
    mark = parametrize_with_checks(checks, expected_failures={
        "is_deterministic": "draws from numpy's global generator"}).mark
    params = {param.id: param for param in mark.args[1]}
    assert list(params) == [check.name for check in checks]
    assert [m.kwargs["reason"] for m in params["is_deterministic"].marks] == [
        "draws from numpy's global generator"]
    assert not params["rejects_unknown_options"].marks
    with pytest.raises(ValueError, match="no_such_check"):
        parametrize_with_checks(checks, expected_failures={"no_such_check": "typo"})


def test_check_strategy_passes_options_and_uses_the_given_name():
    class Picky:
        def __init__(self, offset: int):
            self.offset = offset

        def select(self, context, budget):
            return context.unlabeled_idx[self.offset:self.offset + budget]

    check_strategy(Picky, offset=0)
    with pytest.raises(AssertionError, match="'picky-3' returned"):
        check_strategy(Picky, name="picky-3", offset=200)


# --- toy data and fixtures ------------------------------------------------------------------

def test_toy_context_is_a_trained_model_with_fresh_copies(albench_toy_context,
                                                          albench_toy_dataset):
    context, dataset = albench_toy_context, albench_toy_dataset
    assert len(context.labeled_idx) == 12
    assert np.intersect1d(context.labeled_idx, context.unlabeled_idx).size == 0
    assert len(context.labeled_idx) + len(context.unlabeled_idx) == context.dataset.pool_size
    accuracy = context._trainer.accuracy(context.model, dataset.x_test, dataset.y_test)
    assert accuracy > 0.8
    with torch.no_grad():
        context.model.head.weight.zero_()
    again = toy_context(dataset)
    assert again.model.head.weight.abs().sum() > 0
    assert again.rng.integers(1 << 30) == np.random.default_rng(0).integers(1 << 30)


def test_toy_context_leaves_torch_threads_alone():
    threads = torch.get_num_threads()
    toy_context(toy_dataset(seed=5), n_labeled=6)
    assert torch.get_num_threads() == threads


def test_an_empty_labeled_set_gives_an_untrained_model():
    context = toy_context(labeled_idx=[])
    assert len(context.unlabeled_idx) == context.dataset.pool_size
    assert context.labeled_labels.shape == (0,)


def test_image_fixtures(albench_toy_image_dataset, albench_toy_image_context):
    assert albench_toy_image_dataset.x_pool.dtype == np.uint8
    assert albench_toy_image_dataset.input_shape == (1, 8, 8)
    probs = albench_toy_image_context.predict_proba(albench_toy_image_context.unlabeled_idx)
    assert probs.shape == (108, 3)


def test_toy_images_take_any_shape():
    dataset = toy_dataset(images=True, image_shape=(3, 16, 16))
    assert dataset.input_shape == (3, 16, 16)
    assert dataset.inputs(dataset.x_pool[:2]).shape == (2, 3, 16, 16)


def test_plugins_fixture_lists_the_builtins(albench_plugins):
    assert "random" in albench_plugins.names("strategies")
    assert "mlp" in albench_plugins.names("models")


# --- check_dataset --------------------------------------------------------------------------

def _toy_loader(**changes):
    def load(seed: int = 0):
        return replace(toy_dataset(seed=seed), revision="", **changes)

    load.__name__ = "toy-loader"
    return load


def test_builtin_datasets_conform():
    check_dataset(blobs, n_pool=200, n_test=50)
    check_dataset(_toy_loader())
    check_dataset(lambda: toy_dataset(images=True), name="toy-images")


def _nan_inputs():
    x = toy_dataset().x_pool.copy()
    x[3, 1] = np.nan
    return x


def _unscaled_images():
    return replace(toy_dataset(images=True), scale=1.0, revision="")


@pytest.mark.parametrize("loader, message", [
    (lambda: {"x": 1}, "returned dict, not an albench.types.Dataset"),
    (_toy_loader(x_pool=toy_dataset().x_pool.astype(np.float64)), "dtype float64"),
    (_toy_loader(y_pool=toy_dataset().y_pool.astype(np.float32)), "1-D integer array"),
    (_toy_loader(x_pool=_nan_inputs()), "NaN"),
    (_unscaled_images, "standard deviation"),
    (_toy_loader(input_range=(-1.0, 1.0)), "outside input_range"),
    (_toy_loader(y_pool=np.zeros(120, dtype=np.int64)), "single class"),
    (_toy_loader(classes=("a", "b")), "2 class names for 3 classes"),
    (lambda: toy_dataset(seed=int(np.random.default_rng().integers(1 << 30))),
     "second load gave different data"),
    (lambda **options: toy_dataset(), "unknown option"),
])
def test_check_dataset_names_each_bug(loader, message):
    with pytest.raises(AssertionError, match=message):
        check_dataset(loader)


# --- check_model ----------------------------------------------------------------------------

class SoftmaxOutput(MLP):
    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)


class NoHead(nn.Module):
    def __init__(self, input_shape, num_classes):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(4, num_classes))

    def embed(self, x):
        return x

    def forward(self, x):
        return self.net(x)


class Reseeds(MLP):
    def __init__(self, input_shape, num_classes):
        torch.manual_seed(0)
        super().__init__(input_shape, num_classes)


class FrozenBody(MLP):
    def embed(self, x):
        return self.body(x).detach()


class NoisyTraining(MLP):
    """Adds noise from an unseeded generator while training."""

    def forward(self, x):
        out = super().forward(x)
        if self.training:
            noise = np.random.default_rng().normal(size=tuple(out.shape)).astype(np.float32)
            out = out + torch.from_numpy(noise)
        return out


class WideEmbedding(MLP):
    def embed(self, x):
        return torch.cat([self.body(x), self.body(x)], dim=1)

    def forward(self, x):
        return self.head(self.body(x))


def test_builtin_models_conform():
    check_model(MLP, name="mlp", hidden=32)
    check_model(LeNet, name="lenet", images=True)


@pytest.mark.parametrize("factory, message", [
    (lambda shape, classes: object(), "not an nn.Module"),
    (NoHead, "must be an nn.Linear with 3 outputs"),
    (SoftmaxOutput, r"forward\(x\) differs from head\(embed\(x\)\)"),
    (WideEmbedding, "embed gave shape"),
    (Reseeds, "different torch seeds are identical"),
    (FrozenBody, "no gradient to the embed"),
    (NoisyTraining, "training twice with the same seed"),
    (lambda shape, classes, **options: MLP(shape, classes), "unknown option"),
])
def test_check_model_names_each_bug(factory, message):
    with pytest.raises(AssertionError, match=message):
        check_model(factory)


def test_check_model_rejects_image_only_models_on_features():
    with pytest.raises(ValueError, match="lenet needs image inputs"):
        check_model(LeNet)
