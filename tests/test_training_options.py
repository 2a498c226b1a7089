"""The optimizer and learning-rate schedule options a suite's [training] table can set."""

import pytest
import torch
from pydantic import ValidationError

from albench.plugins import get_plugins
from albench.spec import RunSpec, SuiteError, identity, load_suite
from albench.training import Trainer, TrainingConfig


def _trainer(**config):
    data = get_plugins().get("datasets", "blobs").factory(n_pool=80, n_test=20)
    return data, Trainer(data, get_plugins().get("models", "mlp").factory,
                         TrainingConfig(val_fraction=0.0, batch_size=16, **config), "cpu",
                         {"hidden": 16})


def _weights(trainer, data):
    model = trainer.fit(data.x_pool[:40], data.y_pool[:40], seed=0).model
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_sgd_takes_the_configured_momentum_and_nesterov():
    _, trainer = _trainer(optimizer="sgd", momentum=0.5, nesterov=True)
    group = trainer._optimizer(trainer.new_model(0)).param_groups[0]
    assert (group["momentum"], group["nesterov"]) == (0.5, True)


def test_a_step_schedule_lowers_the_rate_after_each_period():
    data, one_epoch = _trainer(optimizer="sgd", lr=0.1, epochs=1)
    _, frozen_after = _trainer(optimizer="sgd", lr=0.1, epochs=3, lr_schedule="step",
                               lr_step_epochs=1, lr_gamma=1e-12)
    _, constant = _trainer(optimizer="sgd", lr=0.1, epochs=3)
    first = _weights(one_epoch, data)
    torch.testing.assert_close(_weights(frozen_after, data), first, atol=1e-8, rtol=0)
    assert not torch.allclose(_weights(constant, data), first)


def test_a_cosine_schedule_changes_training():
    data, cosine = _trainer(epochs=3, lr_schedule="cosine")
    _, constant = _trainer(epochs=3)
    assert not torch.equal(_weights(cosine, data), _weights(constant, data))


def test_defaults_keep_every_run_id_and_record_text():
    spec = RunSpec(suite="s", dataset="blobs", model="mlp", strategy="random",
                   initial_labeled=1, batch_size=1, rounds=0, seed=0)
    new = {"momentum", "nesterov", "lr_schedule", "lr_step_epochs", "lr_gamma"}
    assert not new & set(identity(spec)["training"])
    assert not new & set(spec.model_dump(mode="json")["training"])
    changed = spec.model_copy(update={"training": TrainingConfig(optimizer="sgd",
                                                                 momentum=0.5)})
    assert changed.run_id != spec.run_id
    assert RunSpec.model_validate_json(changed.model_dump_json()) == changed


@pytest.mark.parametrize("options, problem", [
    ({"momentum": 0.5}, "momentum and nesterov apply to optimizer 'sgd' only"),
    ({"optimizer": "sgd", "momentum": 0.0, "nesterov": True}, "nesterov needs a momentum"),
    ({"lr_gamma": 0.5}, "lr_step_epochs and lr_gamma apply to lr_schedule 'step' only"),
    ({"lr_schedule": "linear"}, "lr_schedule"),
    ({"optimizer": "sgd", "momentum": 1.5}, "momentum"),
])
def test_options_that_do_not_fit_are_refused(options, problem):
    with pytest.raises(ValidationError, match=problem):
        TrainingConfig(**options)


def test_a_suite_sets_them_in_its_training_table(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\n[training]\noptimizer = "sgd"\nmomentum = 0.5\n'
                    'lr_schedule = "step"\nlr_step_epochs = 10\nlr_gamma = 0.5\n'
                    '[[settings]]\ndataset = "blobs"\nmodel = "mlp"\nbatch_size = 5\n')
    training = load_suite(path).training
    assert (training.momentum, training.lr_schedule, training.lr_gamma) == (0.5, "step", 0.5)
    path.write_text(path.read_text().replace('optimizer = "sgd"', 'optimizer = "adam"'))
    with pytest.raises(SuiteError, match="momentum and nesterov apply to optimizer 'sgd'"):
        load_suite(path)
