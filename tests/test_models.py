"""The built-in models: shapes, embed/head consistency, dropout and determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from albench.config import TrainingConfig
from albench.plugins import get_plugins
from albench.testing import model_context
from albench.training import Trainer, has_dropout
from albench.types import Dataset

# name, input shape, embedding width, has dropout
MODELS = [
    ("mlp", (1, 8, 8), 256, True),
    ("lenet", (1, 28, 28), 128, True),
    ("vgg16", (3, 32, 32), 512, True),
    ("resnet18", (3, 16, 16), 512, False),  # any size works; small is fast
]


def build(name: str, input_shape, num_classes: int = 7, seed: int = 0):
    factory = get_plugins().get("models", name).factory
    torch.manual_seed(seed)
    return factory(input_shape, num_classes)


def image_dataset(shape, n: int = 24, num_classes: int = 7) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    y = np.arange(n) % num_classes
    return Dataset("tiny", x, y, x[:6], y[:6], num_classes, scale=255.0,
                   mean=(0.5,) * shape[0], std=(0.25,) * shape[0])


@pytest.mark.parametrize("name, shape, width, dropout", MODELS)
def test_shapes_and_embed_head_consistency(name, shape, width, dropout):
    model = build(name, shape).eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        out, embedding = model(x), model.embed(x)
        assert out.shape == (3, 7)
        assert embedding.shape == (3, width)
        assert isinstance(model.head, torch.nn.Linear) and model.head.in_features == width
        torch.testing.assert_close(model.head(embedding), out)


@pytest.mark.parametrize("name, shape, width, dropout", MODELS)
def test_dropout_presence(name, shape, width, dropout):
    assert has_dropout(build(name, shape)) is dropout


@pytest.mark.parametrize("name, shape, width, dropout", MODELS)
def test_same_seed_same_model_and_eval_is_deterministic(name, shape, width, dropout):
    trainer = Trainer(image_dataset(shape), get_plugins().get("models", name).factory,
                      TrainingConfig(), "cpu")
    a, b, other = trainer.new_model(3).eval(), trainer.new_model(3).eval(), trainer.new_model(4)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        torch.testing.assert_close(a(x), b(x))
        torch.testing.assert_close(a(x), a(x))
    first = next(iter(a.state_dict()))
    assert not torch.equal(a.state_dict()[first], other.state_dict()[first])


@pytest.mark.parametrize("name, shape, width, dropout", MODELS)
def test_cpu_models_are_channels_last_and_compute_the_same_function(name, shape, width, dropout):
    trainer = Trainer(image_dataset(shape), get_plugins().get("models", name).factory,
                      TrainingConfig(), "cpu")
    model = trainer.new_model(0).eval()
    plain = build(name, shape, num_classes=7).eval()
    plain.load_state_dict(model.state_dict())
    weights = [p for p in model.parameters() if p.ndim == 4]
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in weights)
    assert not any(p.is_contiguous(memory_format=torch.channels_last)
                   for p in plain.parameters() if p.ndim == 4 and min(p.shape[1:]) > 1)
    x = torch.randn(4, *shape)
    with torch.no_grad():
        torch.testing.assert_close(model(x), plain(x), rtol=1e-4, atol=1e-5)


def test_dropout_is_active_in_training_mode():
    model = build("vgg16", (3, 32, 32)).train()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(model(x), model(x))


def test_mc_dropout_refuses_resnet18_but_not_vgg16():
    data = image_dataset((3, 32, 32), n=4)
    for name, refuses in (("resnet18", True), ("vgg16", False)):
        trainer = Trainer(data, get_plugins().get("models", name).factory, TrainingConfig(),
                          "cpu")
        context = model_context(data, trainer.new_model(0))
        if refuses:
            with pytest.raises(ValueError, match="dropout"):
                context.mc_dropout_proba(np.arange(2), passes=2)
        else:
            probs = context.mc_dropout_proba(np.arange(2), passes=2)
            assert probs.shape == (2, 2, 7)
            np.testing.assert_allclose(probs.sum(-1), 1, rtol=1e-5)


def test_training_step_works_for_batch_norm_models():
    for name, shape in (("vgg16", (3, 32, 32)), ("resnet18", (3, 16, 16))):
        data = image_dataset(shape, n=6)
        trainer = Trainer(data, get_plugins().get("models", name).factory,
                          TrainingConfig(epochs=1, batch_size=4), "cpu")
        fit = trainer.fit(data.x_pool, data.y_pool, seed=0)
        assert fit.epochs_run == 1 and not fit.model.training


def test_vgg16_rejects_images_smaller_than_32():
    with pytest.raises(ValueError, match="32x32"):
        build("vgg16", (1, 28, 28))


def test_descriptions_say_which_models_support_mc_dropout():
    registry = get_plugins().registry["models"]
    for name, _, _, dropout in MODELS:
        assert ("MC dropout: yes" in registry[name].description) is dropout
