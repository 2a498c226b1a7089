"""Expected gradient length: conformance, exactness of the vectorised gradients, behaviour."""

import numpy as np
import pytest
import torch
from albench_gradient.egl import (
    ExpectedGradientLength,
    expected_gradient_lengths,
    label_grad_sq_norms,
    last_layer_egl,
    per_sample_grad_sq_norms,
)
from torch import nn

from albench.scoring import entropy, top_k
from albench.testing import (
    check_strategy,
    logistic_context,
    parametrize_with_checks,
    strategy_checks,
    toy_context,
)


@pytest.fixture(scope="module")
def trained():
    """A small MLP trained on three separated blobs."""
    return toy_context()


@parametrize_with_checks(strategy_checks(ExpectedGradientLength, name="egl"))
def test_egl_conforms(check):
    check()


@pytest.mark.parametrize("options", [{"parameters": "last"}, {"squared": False}])
def test_egl_conforms_with_options(options):
    check_strategy(ExpectedGradientLength, name="egl", **options)


def test_egl_conforms_on_a_convnet():
    check_strategy(ExpectedGradientLength, name="egl", model="lenet", images=True)


def test_per_sample_gradients_match_one_backward_pass_each(trained):
    context = trained
    model = context.model
    x = context.pool_inputs(context.unlabeled_idx[:5])
    labels = torch.tensor([0, 1, 2, 1, 0])
    fast = per_sample_grad_sq_norms(model, x, labels)
    for i in range(len(x)):
        model.zero_grad()
        nn.functional.cross_entropy(model(x[i:i + 1]), labels[i:i + 1]).backward()
        slow = sum(p.grad.pow(2).sum() for p in model.parameters())
        assert fast[i].item() == pytest.approx(slow.item(), rel=1e-4)
    model.zero_grad(set_to_none=True)


def _with_running_stats(model: nn.Module) -> nn.Module:
    """``model`` with its batch norms' running statistics (and scales) moved off 0 and 1."""
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            for tensor in (module.running_mean, module.weight, module.bias):
                tensor.data = torch.randn(tensor.shape, generator=generator)
            module.running_var.data = torch.rand(module.running_var.shape,
                                                 generator=generator) + 0.5
    return model


@pytest.mark.parametrize("model", [
    nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.Flatten(),
                  nn.Linear(6 * 2 * 2, 5), nn.Tanh(), nn.Linear(5, 3)),
    nn.Sequential(nn.Flatten(), nn.Linear(64, 7, bias=False), nn.ReLU(), nn.Linear(7, 3)),
    _with_running_stats(nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3))),
], ids=["convnet", "mlp", "batch-norm"])
@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last],
                         ids=["nchw", "channels-last"])
def test_layerwise_norms_equal_the_vectorised_per_sample_gradients(model, memory_format):
    x = torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    model.eval().to(memory_format=memory_format)
    probs, layerwise = label_grad_sq_norms(model, x)
    torch.testing.assert_close(probs, torch.softmax(model(x), dim=1))
    for label in range(3):
        vectorised = per_sample_grad_sq_norms(model, x, torch.full((6,), label)).double()
        torch.testing.assert_close(layerwise[:, label], vectorised, rtol=1e-4, atol=1e-7)
    for squared in (True, False):  # all labels in one batch == one vmap pass per label
        batched = expected_gradient_lengths(model, x, squared)
        per_label = expected_gradient_lengths(model, x, squared,
                                              names=[n for n, _ in model.named_parameters()])
        torch.testing.assert_close(batched, per_label, rtol=1e-4, atol=1e-7)


def test_layers_without_a_closed_form_fall_back_to_vmap():
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 7), nn.LayerNorm(7), nn.Linear(7, 3))
    model.eval()
    x = torch.randn(5, 1, 8, 8)
    assert label_grad_sq_norms(model, x) is None
    batch_norm = nn.Sequential(nn.Flatten(), nn.Linear(64, 7), nn.BatchNorm1d(7))
    assert label_grad_sq_norms(batch_norm.train(), x) is None  # batch statistics mix rows
    assert label_grad_sq_norms(batch_norm.eval(), x) is not None
    vectorised = expected_gradient_lengths(model, x, names=[n for n, _ in model.named_parameters()])
    torch.testing.assert_close(expected_gradient_lengths(model, x), vectorised)


def test_closed_form_last_layer_matches_per_sample_gradients(trained):
    context = trained
    idx = context.unlabeled_idx[:20]
    x = context.pool_inputs(idx)
    for squared in (True, False):
        generic = expected_gradient_lengths(context.model, x, squared,
                                            names=["head.weight", "head.bias"])
        closed = last_layer_egl(context.embeddings(idx), context.model.head, squared)
        np.testing.assert_allclose(generic.numpy(), closed, rtol=1e-3, atol=1e-5)


def test_egl_on_logistic_regression_follows_the_formula_and_prefers_boundary_and_norm():
    # Two classes, boundary x0 = 0. For binary softmax regression the expected squared
    # gradient length is 2 p0 p1 (||x||^2 + 1): largest on the boundary, growing with norm.
    x = np.array([[0, 1], [0, 3], [1, 0], [3, 0], [-1, 1], [0.2, 0]])
    context = logistic_context(x, weight=[[1, 0], [-1, 0]], bias=[0, 0])
    probs = context.predict_proba(context.unlabeled_idx)
    expected = 2 * probs[:, 0] * probs[:, 1] * ((x ** 2).sum(1) + 1)
    for parameters in ("all", "last"):
        strategy = ExpectedGradientLength(parameters=parameters)
        picked = strategy.select(context, 3)
        assert list(picked) == list(top_k(expected, context.unlabeled_idx, 3))
    picked = ExpectedGradientLength().select(context, 2)
    assert set(picked) == {0, 1}  # on the boundary, and the farther one first
    assert picked[0] == 1
    # entropy cannot tell the two boundary points apart; EGL ranks by norm too
    assert entropy(probs[0]) == pytest.approx(entropy(probs[1]))


def test_chunking_does_not_change_the_scores(trained):
    context = trained
    whole = ExpectedGradientLength().select(context, 15)
    chunked = ExpectedGradientLength(chunk_size=7).select(context, 15)
    assert list(whole) == list(chunked)


@pytest.mark.parametrize("options", [{"parameters": "first"}, {"chunk_size": 0}])
def test_egl_rejects_bad_options(options):
    with pytest.raises(ValueError, match="egl"):
        ExpectedGradientLength(**options)
