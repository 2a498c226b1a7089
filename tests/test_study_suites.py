"""The suites that claim to be the DAL study's protocols resolve to the study's choices."""

from __future__ import annotations

import pytest

from albench.plugins import get_plugins
from albench.spec import load_suite

# suite: (dataset, model, initial labels, batch, labels at the paper's last point)
STUDY_SUITES = {
    "mnist-b10": ("mnist", "lenet", 100, 10, 900),
    "mnist-b100": ("mnist", "lenet", 100, 100, 2100),
    "mnist-b1000": ("mnist", "lenet", 100, 1000, 3100),
    "fmnist-gpu-b100": ("fashion-mnist", "lenet", 100, 100, 2100),
    "cifar10-b1000": ("cifar10", "vgg16", 5000, 1000, 15000),
    "cifar10-b5000": ("cifar10", "vgg16", 5000, 5000, 25000),
    "cifar10-b10000": ("cifar10", "vgg16", 5000, 10000, 25000),
}
STUDY_METHODS = {"random", "least-confidence", "entropy", "bayesian-least-confidence",
                 "bayesian-entropy", "dfal", "egl-study", "coreset", "coreset-mip-study",
                 "dal-study"}


@pytest.mark.parametrize("name", sorted(STUDY_SUITES))
def test_study_suite_resolves_to_the_study_protocol(name):
    dataset, model, initial, batch, final = STUDY_SUITES[name]
    suite = load_suite(name)
    assert suite.version >= 2
    assert set(suite.strategies) == STUDY_METHODS
    specs = suite.run_specs(suite.strategies)
    assert len(specs) == len(STUDY_METHODS) * 20  # 20 repeats (the Experiments post)
    for spec in specs:
        assert (spec.dataset, spec.model, spec.batch_size) == (dataset, model, batch)
        assert spec.initial_labeled + spec.rounds * spec.batch_size == final
        assert spec.dataset_options == {"standardize": False}  # inputs / 255 only
        assert spec.model_options == {"variant": "study"}
        training = spec.training
        assert (training.optimizer, training.lr, training.batch_size) == ("adam", 1e-3, 32)
        assert training.epochs == (150 if model == "lenet" else 400)
        assert training.checkpoint == "study" and training.patience is None
        assert training.weight_decay == 0.0
        assert training.l2_kernels == (5e-4 if model == "vgg16" else 0.0)
        if spec.strategy.startswith("bayesian"):  # Keras's learning phase 1 in its chunks
            chunk = {"bayesian-least-confidence": 128, "bayesian-entropy": 1000}[spec.strategy]
            expected = {"masks": "per-example"}
            if model == "vgg16":  # the only study model with batch norm
                expected["batch_stats"] = chunk
            assert spec.strategy_options == expected
        else:
            assert "masks" not in spec.strategy_options
        # the study's split, int(0.2 n), is albench's round(0.2 n) at every labelled size
        for size in range(initial, final + 1, batch):
            assert round(training.val_fraction * size) == int(0.2 * size)
            # albench skips a last training batch of one example, Keras does not: never here
            assert (size - int(0.2 * size)) % training.batch_size != 1
    assert sorted({s.seed for s in specs}) == list(range(20))


@pytest.mark.parametrize("name", sorted(STUDY_SUITES))
def test_installed_study_strategies_accept_their_options(name):
    suite = load_suite(name)
    plugins = get_plugins()
    installed = set(plugins.names("strategies"))
    for strategy in set(suite.strategies) & installed:
        plugins.get("strategies", strategy).factory(**suite.strategy_options.get(strategy, {}))
    setting = suite.settings[0]
    model = plugins.get("models", setting.model).factory(
        (1, 28, 28) if setting.model == "lenet" else (3, 32, 32), 10, **setting.model_options)
    assert sum(p.numel() for p in model.parameters()) > 0
