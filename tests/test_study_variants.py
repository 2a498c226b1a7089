"""The DAL study's model and training choices, each against a reference of the study's code."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from torch import nn

from albench.builtin.networks import VGG16, LeNet
from albench.config import TrainingConfig
from albench.spec import identity
from albench.training import Trainer, keeps_epoch, l2_kernel_names
from albench.types import Dataset


def study_checkpoint(val_accs: list[float], delay: int = 50) -> int | None:
    """The study's ``DelayedModelCheckpoint`` (``models.py``): the epoch whose weights end
    up saved, or None if none was."""
    best, saved = -np.inf, None
    for epoch, current in enumerate(val_accs):
        if current >= best and epoch > delay:
            best, saved = current, epoch
    return saved


def albench_checkpoint(rule: str, keys: list[tuple[float, float]]) -> int | None:
    best, kept = None, None
    for epoch, key in enumerate(keys):
        if keeps_epoch(rule, epoch, key, best):
            best, kept = key, epoch
    return kept


@pytest.mark.parametrize("epochs", [150, 60, 52, 51, 10])
def test_study_checkpoint_rule_matches_the_reference(epochs):
    rng = np.random.default_rng(epochs)
    for _ in range(20):
        accs = list(rng.integers(0, 6, epochs) / 5)  # few values: many ties
        keys = [(a, -float(rng.random())) for a in accs]
        assert albench_checkpoint("study", keys) == study_checkpoint(accs)


def test_default_rule_keeps_the_first_strict_best():
    keys = [(0.5, -1.0), (0.7, -0.9), (0.7, -0.9), (0.7, -0.8), (0.6, 0.0)]
    assert albench_checkpoint("best", keys) == 3
    assert albench_checkpoint("study", keys * 20) == study_checkpoint([k[0] for k in keys] * 20)


def tiny_dataset(n: int = 40) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return Dataset("tiny", x, y, x[:8], y[:8], 2)


class Net(nn.Module):
    def __init__(self, input_shape, num_classes):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(input_shape[0], 5), nn.ReLU())
        self.head = nn.Linear(5, num_classes)

    def embed(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.embed(x))


@pytest.mark.parametrize("epochs, kept", [(56, 51), (30, 29)])
def test_fit_with_the_study_rule_keeps_the_reference_epoch(monkeypatch, epochs, kept):
    snapshots = []
    accs = iter([0.9] * 51 + [0.5, 0.4, 0.4, 0.3, 0.2] + [0.1] * 100)

    def scripted(self, model, x_all, y_all, val):
        snapshots.append(copy.deepcopy(model.state_dict()))
        return (next(accs), 0.0)

    monkeypatch.setattr(Trainer, "_val_key", scripted)
    trainer = Trainer(tiny_dataset(), Net, TrainingConfig(epochs=epochs, checkpoint="study"))
    model = trainer.fit(trainer.dataset.x_pool, trainer.dataset.y_pool, seed=0).model
    assert len(snapshots) == epochs
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, snapshots[kept][name])


def test_study_rule_refuses_patience():
    with pytest.raises(ValidationError, match="patience"):
        TrainingConfig(checkpoint="study", patience=5)


def test_new_training_fields_at_their_defaults_keep_run_ids():
    assert {"checkpoint", "l2_kernels"} <= TrainingConfig.late_fields
    assert set(identity(TrainingConfig())) == (set(TrainingConfig.model_fields)
                                               - TrainingConfig.late_fields
                                               - set(TrainingConfig.omitted_at_default))
    assert "l2_kernels" in identity(TrainingConfig(l2_kernels=5e-4))


def test_l2_kernels_covers_conv_and_dense_kernels_but_not_the_head():
    model = VGG16((3, 32, 32), 10)
    names = l2_kernel_names(model)
    convs = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 13
    assert names == {f"{n}.weight" for n in convs} | {"dense.0.weight"}
    assert not any("bias" in n or n.startswith("head") for n in names)


def test_l2_kernels_adds_the_keras_penalty_gradient():
    """One SGD step with ``l2_kernels`` equals one on ``loss + l2 * sum(kernel**2)``."""
    lr, l2 = 0.1, 5e-4
    trainer = Trainer(tiny_dataset(), Net,
                      TrainingConfig(optimizer="sgd", lr=lr, l2_kernels=l2))
    x = torch.as_tensor(trainer.dataset.x_pool)
    y = torch.as_tensor(trainer.dataset.y_pool)
    model = trainer.new_model(0)
    reference = copy.deepcopy(model)
    optimizer = trainer._optimizer(model)
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    penalty = l2 * reference.body[0].weight.pow(2).sum()
    (nn.functional.cross_entropy(reference(x), y) + penalty).backward()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p, q - lr * q.grad, msg=name)


def test_lenet_study_variant_is_the_keras_model():
    study, default = LeNet((1, 28, 28), 10, variant="study"), LeNet((1, 28, 28), 10)
    assert sum(p.numel() for p in study.parameters()) == 225_034
    assert sum(p.numel() for p in default.parameters()) == 421_642
    assert study.dense[0].in_features == 1600 and default.dense[0].in_features == 3136
    assert study(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    for module in (study.features[0], study.features[3], study.dense[0], study.head):
        fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(module.weight)
        bound = math.sqrt(6 / (fan_in + fan_out))  # glorot uniform
        assert module.weight.abs().max() <= bound
        assert module.weight.abs().max() > 0.95 * bound
        assert torch.all(module.bias == 0)


def test_vgg16_study_variant_has_keras_batch_norm_and_init():
    study, default = VGG16((3, 32, 32), 10, variant="study"), VGG16((3, 32, 32), 10)
    norms = [m for m in study.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert len(norms) == 14
    assert all(m.momentum == 0.01 and m.eps == 1e-3 for m in norms)
    assert all(m.momentum == 0.1 and m.eps == 1e-5 for m in default.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm))
    assert all(torch.all(m.bias == 0) for m in study.modules() if isinstance(m, nn.Conv2d))


@pytest.mark.parametrize("factory", [LeNet, VGG16])
def test_unknown_variant_is_refused(factory):
    with pytest.raises(ValueError, match="variant must be"):
        factory((3, 32, 32), 10, variant="keras")


def study_uncertainty_picks(probs: np.ndarray, amount: int, rule: str) -> set[int]:
    """The study's ``UncertaintySampling`` / ``UncertaintyEntropySampling`` (and, on the mean
    of the MC-dropout passes, its two Bayesian classes): ``argpartition`` of the top
    confidence, or of ``sum p log(p + 1e-10)``."""
    if rule == "least-confidence":
        score = np.amax(probs, axis=1)
    else:
        score = np.sum(probs * np.log(probs + 1e-10), axis=1)
    return set(np.argpartition(score, amount)[:amount].tolist())


@pytest.mark.parametrize("rule", ["least-confidence", "entropy"])
def test_uncertainty_rules_pick_what_the_study_picks(rule):
    pytest.importorskip("albench_bald", reason="the albench-bald plugin is not installed")
    from albench_bald.scores import bayesian_entropy, bayesian_least_confidence

    from albench.builtin.strategies import least_confidence
    from albench.scoring import entropy, top_k

    rng = np.random.default_rng(0)
    passes = rng.dirichlet(np.full(10, 0.3), size=(20, 300))  # (T, n, C), no ties
    mean = passes.mean(0)
    plain = {"least-confidence": least_confidence, "entropy": entropy}[rule]
    bayesian = {"least-confidence": bayesian_least_confidence,
                "entropy": bayesian_entropy}[rule]
    candidates = np.arange(300)
    for amount in (1, 10, 100):
        expected = study_uncertainty_picks(mean, amount, rule)
        assert set(top_k(plain(mean), candidates, amount).tolist()) == expected
        assert set(top_k(bayesian(passes), candidates, amount).tolist()) == expected
