"""The study's DAL: each choice of the study's code, pinned against a small reference of it."""

import numpy as np
import pytest
import torch
from albench_dal.networks import DiscriminatorConfig, class_weights, train_discriminator
from albench_dal.study import (
    ConvAutoencoder,
    conv_autoencoder_codes,
    discriminative_query,
    study_discriminator,
    study_sub_batch_sizes,
)

from albench.testing import check_strategy, get_plugins, toy_context, toy_dataset

NAMES = ["dal-study", "dal-raw-study", "dal-ae-study", "dal-stochastic-study"]
CHEAP = {"max_epochs": 3, "ae_epochs": 1}


def _factory(name):
    return get_plugins().get("strategies", name).factory


def study_recipe(shape):
    """models.py L114-129 and L267-289, restated: (width, lr, epochs, batch)."""
    width = 20 if np.sum(shape) < 30 else 256
    batch_size = 1024
    if np.max(shape) == 28:
        lr, epochs = 0.0003, 200
    elif np.max(shape) == 128:
        batch_size, lr, epochs = 128, 0.0001, 1000
    elif np.max(shape) == 512:
        lr, epochs = 0.0002, 500
    elif np.max(shape) == 32:
        lr, epochs = 0.0003, 500
    else:
        lr, epochs, batch_size = 0.001, 1000, 32  # Keras Adam's default learning rate
    return width, lr, epochs, batch_size


@pytest.mark.parametrize("shape", [(128, 1), (512, 1), (28, 28, 1), (32, 32, 3), (7, 7, 4),
                                   (256, 1), (8, 8, 1), (64, 1)])
def test_discriminator_recipe_follows_the_study_dispatch(shape):
    config = study_discriminator(shape)
    assert (config.hidden, config.lr, config.max_epochs, config.batch_size) == \
        study_recipe(shape)
    assert (config.depth, config.stop_accuracy, config.class_weights, config.init) == \
        (3, 0.98, "equal", "glorot")
    assert study_discriminator(shape, max_epochs=7).max_epochs == 7


@pytest.mark.parametrize("n_labeled, n_unlabeled", [(10, 100), (1, 7), (50, 50)])
def test_class_weights_are_what_the_study_formula_evaluates_to(n_labeled, n_unlabeled):
    y = np.vstack([np.zeros((n_labeled, 1), int), np.ones((n_unlabeled, 1), int)])
    y_train = np.eye(2)[y[:, 0]]  # keras.utils.to_categorical, as models.py L262
    x_rows = len(y_train)
    study = [float(x_rows) / y_train[y_train == 0].shape[0],
             float(x_rows) / y_train[y_train == 1].shape[0]]  # models.py L298-299
    assert class_weights(n_labeled, n_unlabeled, "equal").tolist() == study
    inverse = class_weights(n_labeled, n_unlabeled, "inverse").tolist()
    assert inverse == pytest.approx([x_rows / n_labeled, x_rows / n_unlabeled])


def study_schedule(amount, sub_batches):
    """query_methods.py L305-316: the sizes the study's while loop takes."""
    sizes, so_far, size = [], 0, int(amount / sub_batches)
    while so_far < amount:
        if so_far + size > amount:
            size = amount - so_far
        sizes.append(size)
        so_far += size
    return sizes


@pytest.mark.parametrize("sub_batches", [10, 20, 25])
@pytest.mark.parametrize("budget", [25, 30, 99, 100, 1000, 1013])
def test_sub_batch_sizes_are_the_study_loop(budget, sub_batches):
    assert study_sub_batch_sizes(budget, sub_batches) == study_schedule(budget, sub_batches)


def test_budgets_below_the_sub_batch_count_take_one_at_a_time():
    assert study_sub_batch_sizes(10, 20) == [1] * 10  # the study's loop would never end
    assert study_sub_batch_sizes(0, 20) == []


def study_candidates(labeled_idx, pool_size, amount, sub_batches, values, rng):
    """query_methods.py L295-322 with a fixed score per pool index instead of a network."""
    def unlabeled_of(idx):
        return np.arange(pool_size)[np.logical_not(np.isin(np.arange(pool_size), idx))]

    steps = []
    unlabeled_idx = unlabeled_of(labeled_idx)
    unlabeled_idx = rng.choice(unlabeled_idx, np.min([len(labeled_idx) * 10,
                                                      unlabeled_idx.size]), replace=False)
    so_far, size = 0, int(amount / sub_batches)
    while so_far < amount:
        if so_far + size > amount:
            size = amount - so_far
        chosen = np.argpartition(values[unlabeled_idx], -size)[-size:]
        steps.append((unlabeled_idx, unlabeled_idx[chosen]))
        labeled_idx = np.hstack((labeled_idx, unlabeled_idx[chosen]))
        so_far += size
        unlabeled_idx = unlabeled_of(labeled_idx)
        unlabeled_idx = rng.choice(unlabeled_idx, np.min([len(labeled_idx) * 10,
                                                          unlabeled_idx.size]), replace=False)
    return steps


@pytest.mark.parametrize("pool_size, n_labeled, budget", [(500, 4, 20), (120, 5, 30)])
def test_candidates_are_a_fresh_subsample_per_sub_batch(pool_size, n_labeled, budget):
    values = np.random.default_rng(7).random(pool_size)
    labeled_idx = np.random.default_rng(8).choice(pool_size, n_labeled, replace=False)
    mask = np.zeros(pool_size, dtype=bool)
    mask[labeled_idx] = True
    ours = discriminative_query(
        mask, study_sub_batch_sizes(budget, 10), 10, np.random.default_rng(3),
        lambda positives, candidates, size: candidates[np.argsort(-values[candidates])[:size]])
    reference = study_candidates(labeled_idx, pool_size, budget, 10, values,
                                 np.random.default_rng(3))
    assert len(ours) == len(reference) == 10
    labeled_so_far = n_labeled
    for (candidates, picks), (ref_candidates, ref_picks) in zip(ours, reference, strict=True):
        assert np.array_equal(candidates, ref_candidates)
        assert sorted(picks.tolist()) == sorted(ref_picks.tolist())
        assert len(candidates) == min(10 * labeled_so_far, pool_size - labeled_so_far)
        assert np.isin(picks, candidates).all() and not mask[candidates].any()
        mask[picks] = True
        labeled_so_far += len(picks)
    assert not np.array_equal(np.sort(ours[0][0][:20]), np.sort(ours[1][0][:20]))


def _separable(n_labeled=20, n_unlabeled=200, width=8, gap=3.0):
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(n_labeled, width, generator=generator) - gap,
            torch.randn(n_unlabeled, width, generator=generator) + gap)


def test_training_stops_at_the_first_epoch_above_98_percent():
    labeled, unlabeled = _separable()
    history = []
    train_discriminator(labeled, unlabeled, study_discriminator((8, 1)),
                        torch.Generator().manual_seed(1), history)
    assert history[-1] > 0.98 and all(acc <= 0.98 for acc in history[:-1])
    assert len(history) < 1000


def test_training_runs_to_the_epoch_cap_when_98_percent_is_out_of_reach():
    generator = torch.Generator().manual_seed(0)
    same = torch.randn(30, 4, generator=generator)
    history = []
    train_discriminator(same[:3], same[3:], study_discriminator((4, 1), max_epochs=4),
                        generator, history)
    assert len(history) == 4


def test_optimiser_batches_and_initialisation_are_the_studys(monkeypatch):
    made = []

    class RecordingAdam(torch.optim.Adam):
        def __init__(self, params, **kwargs):
            params = list(params)
            self.initial = [p.detach().clone() for p in params]
            super().__init__(params, **kwargs)
            self.steps = 0
            made.append(self)

        def step(self, closure=None):
            self.steps += 1
            return super().step(closure)

    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    labeled, unlabeled = _separable(n_labeled=30, n_unlabeled=270, width=128, gap=0.0)
    config = study_discriminator((128, 1), max_epochs=2)
    train_discriminator(labeled, unlabeled, config, torch.Generator().manual_seed(0))
    (adam,) = made
    group = adam.param_groups[0]
    assert (group["lr"], group["eps"], group["betas"], group["weight_decay"]) == \
        (1e-4, 1e-7, (0.9, 0.999), 0)
    assert adam.steps == 2 * 3  # 300 rows in batches of 128, two epochs
    weights, biases = adam.initial[0::2], adam.initial[1::2]
    assert [tuple(w.shape) for w in weights] == [(256, 128), (256, 256), (256, 256), (2, 256)]
    for weight, bias in zip(weights, biases, strict=True):
        bound = np.sqrt(6 / sum(weight.shape))  # glorot-uniform
        assert torch.all(bias == 0) and bound * 0.9 < weight.abs().max() <= bound


def test_conv_autoencoder_has_the_studys_7x7x4_code():
    net = ConvAutoencoder(1, torch.Generator().manual_seed(0))
    x = torch.rand(2, 1, 28, 28)
    assert net.encoder(x).shape == (2, 4, 7, 7) and net(x).shape == x.shape
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.out_channels for m in convs] == [32, 8, 4, 4, 8, 32, 1]
    odd = torch.rand(3, 3, 9, 9)
    codes = conv_autoencoder_codes(odd, torch.Generator().manual_seed(0), epochs=1)
    assert codes.shape == (3, 4 * 3 * 3)


@pytest.mark.parametrize("name", NAMES)
def test_conformance(name):
    check_strategy(_factory(name), name=name, images=name == "dal-ae-study", **CHEAP)


def test_dal_study_scores_and_selects_only_from_each_subsample():
    context = toy_context(n_labeled=6)
    strategy = _factory("dal-study")(sub_batches=4, max_epochs=3)
    picks = strategy.select(context, 8)
    labeled = set(context.labeled_idx.tolist())
    assert [len(p) for _, p in strategy.last_steps] == [2, 2, 2, 2]
    for candidates, step_picks in strategy.last_steps:
        assert len(candidates) == min(10 * len(labeled), context.dataset.pool_size
                                      - len(labeled))
        assert labeled.isdisjoint(candidates.tolist())
        assert set(step_picks.tolist()) <= set(candidates.tolist())
        labeled |= set(step_picks.tolist())
    assert len(set(picks.tolist())) == 8


def test_study_defaults_and_bad_options():
    assert _factory("dal-study")().sub_batches == 20
    assert _factory("dal-ae-study")().sub_batches == 10
    assert _factory("dal-stochastic-study")().temperature == 0.01
    with pytest.raises(ValueError, match="max_epochs"):
        _factory("dal-study")(max_epochs=0)
    with pytest.raises(ValueError, match="class_weights"):
        DiscriminatorConfig(class_weights="balanced")


def test_learned_representation_is_lenets_128_wide_dense_output():
    """The study feeds DAL the input of LeNet's softmax layer: ReLU(dense 128), dropout off."""
    dataset = toy_dataset(images=True, image_shape=(1, 28, 28))
    context = toy_context(dataset, n_labeled=6, model="lenet")
    strategy = _factory("dal-study")()
    features, shape = strategy._features(context, torch.Generator().manual_seed(0))
    with torch.no_grad():
        x = dataset.inputs(dataset.x_pool)
        head_input = context.model.embed(x)
        logits = context.model(x)
    assert shape == (128, 1) and context.model.head.in_features == 128
    assert torch.allclose(features, head_input, atol=1e-5) and features.min() >= 0  # ReLU
    assert torch.allclose(context.model.head(features), logits, atol=1e-5)  # dropout off
    assert study_discriminator(shape).batch_size == 128


def test_raw_representation_is_the_inputs_over_their_scale_only():
    dataset = toy_dataset(images=True)
    context = toy_context(dataset, n_labeled=6)
    features, shape = _factory("dal-raw-study")()._features(context,
                                                             torch.Generator().manual_seed(0))
    expected = dataset.x_pool.reshape(dataset.pool_size, -1).astype(np.float32) / dataset.scale
    assert shape == dataset.input_shape and np.array_equal(features.numpy(), expected)


def test_autoencoder_training_is_the_studys(monkeypatch):
    made = []

    class CountingAdam(torch.optim.Adam):
        def __init__(self, params, **kwargs):
            super().__init__(params, **kwargs)
            self.steps = 0
            made.append(self)

        def step(self, closure=None):
            self.steps += 1
            return super().step(closure)

    monkeypatch.setattr(torch.optim, "Adam", CountingAdam)
    conv_autoencoder_codes(torch.rand(300, 1, 8, 8), torch.Generator().manual_seed(0),
                           epochs=2)
    (adam,) = made
    assert (adam.param_groups[0]["lr"], adam.param_groups[0]["eps"]) == (3e-4, 1e-7)
    assert adam.steps == 2 * 2  # 300 images in batches of 256
