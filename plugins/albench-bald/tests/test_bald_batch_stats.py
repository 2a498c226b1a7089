"""``batch_stats``: batch norm on each pass's statistics over the study's chunks, checked
against a reference that runs every pass as the study did (Keras learning phase 1: batch norm
on the chunk's statistics, dropout on) with the same masks."""

import copy
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from albench.mc_dropout import ConsistentMCDropout, mc_dropout_chunks, mc_dropout_scores
from albench.testing import get_plugins, model_context, toy_context, toy_dataset


class BatchNormNet(nn.Module):
    """Conv-ReLU-BN-dropout, then dense-ReLU-BN-dropout: VGG-16's pattern in miniature."""

    def __init__(self, input_shape, num_classes):
        super().__init__()
        torch.manual_seed(0)
        channels, height, width = input_shape
        self.features = nn.Sequential(nn.Conv2d(channels, 3, 3), nn.ReLU(), nn.BatchNorm2d(3),
                                      nn.Dropout(0.4), nn.Flatten())
        self.dense = nn.Sequential(nn.Linear(3 * (height - 2) * (width - 2), 6), nn.ReLU(),
                                   nn.BatchNorm1d(6), nn.Dropout(0.5))
        self.head = nn.Linear(6, num_classes)
        for norm in (self.features[2], self.dense[2]):  # running statistics far from a batch's
            norm.running_mean.uniform_(-1.0, 1.0)
            norm.running_var.uniform_(0.5, 2.0)
            nn.init.uniform_(norm.weight, 0.5, 1.5)
            nn.init.uniform_(norm.bias, -0.5, 0.5)
        self.eval()

    def embed(self, x):
        return self.dense(self.features(x))

    def forward(self, x):
        return self.head(self.embed(x))


def study_passes(model: nn.Module, x: torch.Tensor, masks: list[torch.Tensor]) -> np.ndarray:
    """Each pass as one forward of the chunk with batch norm in training mode (the chunk's
    mean and biased variance) and each dropout layer replaced by that pass's mask."""
    reference = copy.deepcopy(model).train()
    drops = [m for m in reference.modules() if isinstance(m, nn.Dropout)]
    out = []
    for p in range(len(masks[0])):
        handles = []
        for drop, mask in zip(drops, masks, strict=True):
            drop.eval()
            handles.append(drop.register_forward_pre_hook(
                lambda module, args, m=mask[p]: (args[0] * m,)))
        with torch.no_grad():
            out.append(torch.softmax(reference(x), 1).numpy())
        for handle in handles:
            handle.remove()
    return np.stack(out)


@pytest.fixture
def images():
    torch.manual_seed(1)
    return torch.randn(5, 1, 6, 6)


@pytest.mark.parametrize("share_prefix", [True, False])
def test_each_pass_normalises_over_its_chunk_as_the_study_did(images, share_prefix):
    model = BatchNormNet((1, 6, 6), 3)
    before = copy.deepcopy(model.state_dict())
    with ConsistentMCDropout(model, 4, seed=0, strategy="t", batch_stats=True) as mc:
        mc.share_prefix = share_prefix
        probs = mc.proba(images)
        masks = [mask for mask in mc._masks]
    np.testing.assert_allclose(probs, study_passes(model, images, masks), rtol=1e-5, atol=1e-6)
    with ConsistentMCDropout(model, 4, seed=0, strategy="t") as mc:
        assert not np.allclose(mc.proba(images), probs, atol=1e-3)  # running statistics
    for key, value in model.state_dict().items():  # the running statistics are untouched
        torch.testing.assert_close(value, before[key])


def test_passes_run_in_slices_with_the_same_result(images, monkeypatch):
    model = BatchNormNet((1, 6, 6), 3)
    with ConsistentMCDropout(model, 4, seed=3, strategy="t", batch_stats=True) as mc:
        whole = mc.proba(images)
    monkeypatch.setattr("albench.mc_dropout.ROWS", 10)  # two passes of 5 examples per forward
    with ConsistentMCDropout(model, 4, seed=3, strategy="t", batch_stats=True) as mc:
        sliced = mc.proba(images)
    np.testing.assert_allclose(sliced, whole, rtol=1e-6, atol=1e-7)


def chunks(context, batch_stats=15):
    """The pool indices of each chunk ``mc_dropout_chunks`` scores, and the probabilities."""
    idx = context.unlabeled_idx
    return [(idx[positions], probs) for positions, probs in
            mc_dropout_chunks(context, idx, 2, "t", batch_stats=batch_stats)]


def test_chunks_are_batch_stats_examples_of_one_shuffle_of_the_pool_per_run():
    dataset = toy_dataset(n_pool=40, images=True)
    context = model_context(dataset, BatchNormNet(dataset.input_shape, dataset.num_classes),
                            labeled_idx=[3, 17, 25], seed=4)
    groups = [members for members, _ in chunks(context)]
    assert [len(members) for members in groups] == [15, 15, 7]
    pool_order = np.random.default_rng(4).permutation(dataset.pool_size)  # the run's shuffle
    expected = pool_order[np.isin(pool_order, context.unlabeled_idx)]
    np.testing.assert_array_equal(np.concatenate(groups), expected)
    # a later round of the same run (another rng) groups the examples the same way
    later = [members for members, _ in chunks(replace(context, rng=np.random.default_rng(9)))]
    for members, again in zip(groups, later, strict=True):
        np.testing.assert_array_equal(again, members)
    # each example's score is the one its group gives it
    score = lambda probs: probs[:, :, 0].mean(0)
    scores = mc_dropout_scores(replace(context, rng=np.random.default_rng(4)),
                               context.unlabeled_idx, 2, score, "t", batch_stats=15)
    seed = np.random.default_rng(4).integers(2**31)  # what draw_seed() takes from rng
    with ConsistentMCDropout(context.model, 2, int(seed), "t", batch_stats=True) as mc:
        for members in groups:
            got = scores[np.searchsorted(context.unlabeled_idx, members)]
            np.testing.assert_allclose(got, score(mc.proba(context.pool_inputs(members))),
                                       rtol=1e-6)


def test_without_batch_norm_the_chunks_keep_the_pool_order():
    context = toy_context(toy_dataset(n_pool=60), n_labeled=9)
    np.testing.assert_array_equal(np.concatenate([members for members, _ in chunks(context, 7)]),
                                  context.unlabeled_idx)


def test_a_model_without_batch_norm_scores_the_same_with_batch_stats():
    context = toy_context(toy_dataset(n_pool=60), n_labeled=9)
    factory = get_plugins().get("strategies", "bayesian-entropy").factory

    def scores(batch_stats):
        strategy = factory(passes=4, masks="per-example", batch_stats=batch_stats)
        return strategy.scores(model_context(context.dataset, context.model, seed=2))

    np.testing.assert_array_equal(scores(7), scores(None))


@pytest.mark.parametrize(("rule", "chunk"), [("bayesian-least-confidence", 128),
                                             ("bayesian-entropy", 1000)])
def test_study_names_default_to_the_studys_chunks(rule, chunk):
    study = get_plugins().get("strategies", f"{rule}-study").factory()
    assert (study.masks, study.batch_stats) == ("per-example", chunk)
    assert get_plugins().get("strategies", rule).factory().batch_stats is None


def test_bad_batch_stats_is_refused_by_name():
    with pytest.raises(ValueError, match="bayesian-entropy: batch_stats must be at least 1"):
        get_plugins().get("strategies", "bayesian-entropy").factory(batch_stats=0)
