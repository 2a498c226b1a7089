"""Expected gradient length (EGL): query the examples whose label would change the model most.

Per-example expected gradient length: for each unlabelled ``x``, the expectation over the
model's predicted label distribution ``p(y|x)`` of the length of the cross-entropy gradient
with respect to the model's parameters, had ``y`` been the true label. The default is the
*squared* length (sum of squared gradient entries); ``squared=False`` gives the plain norm
of Settles et al. The DAL study computed something else, a gradient per chunk of 100
examples: see :mod:`albench_gradient.egl_study`.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from albench import QueryContext
from albench.scoring import top_k

GRADIENT_FLOATS_PER_CHUNK = 2**24
"""Per-sample gradient entries held at once (64 MiB of float32) when choosing the chunk size."""


def per_sample_grad_sq_norms(model: nn.Module, x: torch.Tensor, labels: torch.Tensor,
                             names: list[str] | None = None) -> torch.Tensor:
    """``||d CE(model(x_i), labels_i) / d theta||^2`` for each row, over parameters ``names``.

    Vectorised with ``torch.func`` (``vmap`` of ``grad`` of a ``functional_call``); the
    model is used as it is (call ``eval()`` first for dropout and batch norm).
    """
    params = dict(model.named_parameters())
    names = list(params) if names is None else names
    wrt = {name: params[name].detach() for name in names}
    fixed = {name: p.detach() for name, p in params.items() if name not in wrt}
    fixed.update({name: b.detach() for name, b in model.named_buffers()})

    def loss(theta, xi, yi):
        logits = functional_call(model, (theta, fixed), (xi.unsqueeze(0),))
        return nn.functional.cross_entropy(logits, yi.unsqueeze(0))

    grads = vmap(grad(loss), in_dims=(None, 0, 0))(wrt, x, labels)
    return sum(torch.linalg.vector_norm(g.flatten(1), dim=1).square() for g in grads.values())


def label_grad_sq_norms(model: nn.Module, x: torch.Tensor
                        ) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Probabilities ``p(y|x_i)`` and, for every label ``y``, the squared norm of
    ``d CE(model(x_i), y) / d theta`` over every parameter: two ``(n, classes)`` tensors,
    without materialising per-sample gradients; ``None`` if the model has a layer this does
    not cover.

    One forward pass keeps each layer's inputs ``a_i``; then one backward pass per label
    through the kept graph gives each layer's output gradients ``d_i`` (exact in eval mode,
    where examples do not interact; the logits' gradient for label ``y`` is ``p - e_y``).
    A linear layer's weight gradient is ``d_i a_i^T``, so its squared norm is
    ``|d_i|^2 |a_i|^2``; a convolution's is ``d_i @ unfold(a_i)^T``, one batched matrix
    product per label with the patches unfolded once; an eval-mode batch norm's scale
    gradient is ``d_i`` times the normalised input, summed per channel; biases add
    ``|d_i summed over positions|^2``. (A per-label loop, not ``is_grads_batched``: vmap's
    batched backward falls back to per-label kernels and copies, and is 1.6x slower.)
    """
    layers = [m for m in model.modules() if list(m.parameters(recurse=False))]
    if not all(_covered(m) for m in layers):
        return None
    inputs, outputs, calls = {}, {}, Counter()

    def keep(module, args, output):
        inputs[module], outputs[module] = args[0].detach(), output
        calls[module] += 1

    handles = [m.register_forward_hook(keep) for m in layers]
    try:
        with torch.enable_grad():
            logits = model(x)
    finally:
        for handle in handles:
            handle.remove()
    if any(calls[m] != 1 for m in layers) or \
            any(isinstance(m, nn.Linear) and inputs[m].ndim != 2 for m in layers):
        return None  # shared layers or sequence inputs: not covered
    probs = torch.softmax(logits.detach(), dim=1)
    n, classes = probs.shape
    kept = {m: _from_input(m, inputs[m]) for m in layers}
    eye = torch.eye(classes, dtype=probs.dtype, device=probs.device)
    total = torch.zeros(classes, n, dtype=torch.float64, device=x.device)
    for y in range(classes):
        grads = torch.autograd.grad(logits, [outputs[m] for m in layers], probs - eye[y],
                                    retain_graph=y + 1 < classes)
        for module, d in zip(layers, grads):
            total[y] += _layer_sq_norms(module, d, kept[module]).double()
    return probs, total.T


_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _covered(module: nn.Module) -> bool:
    if isinstance(module, nn.Linear):
        return True
    if isinstance(module, _BATCH_NORMS):  # in eval mode: a fixed per-channel affine map
        return not module.training and module.running_mean is not None
    return (type(module) is nn.Conv2d and module.groups == 1
            and module.padding_mode == "zeros" and isinstance(module.padding, tuple))


def _from_input(module: nn.Module, a: torch.Tensor) -> torch.Tensor:
    """What a layer's per-example gradient norms need from its input ``a``: the squared
    norms (linear), the unfolded patches ``(n, P, positions)`` (convolution) or the
    normalised input (batch norm)."""
    if isinstance(module, nn.Linear):
        return a.pow(2).sum(1)
    if isinstance(module, nn.Conv2d):
        return nn.functional.unfold(a, module.kernel_size, module.dilation, module.padding,
                                    module.stride)
    shape = (1, -1, *[1] * (a.ndim - 2))
    return (a - module.running_mean.view(shape)) * torch.rsqrt(
        module.running_var.view(shape) + module.eps)


def _layer_sq_norms(module: nn.Module, d: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """Each example's squared gradient norm over ``module``'s parameters, from its output
    gradients ``d`` and :func:`_from_input`'s ``kept``."""
    n = len(d)
    if isinstance(module, nn.Linear):
        sq, summed = d.pow(2).sum(1) * kept, d
    elif isinstance(module, nn.Conv2d):
        d = d.flatten(2)  # (n, out channels, positions)
        sq = torch.linalg.vector_norm(_weight_grads(d, kept), dim=(1, 2)).square()
        summed = d.sum(2)
    else:  # batch norm: the scale's gradient is d * normalised input, summed per channel
        sq = (d * kept).reshape(n, d.shape[1], -1).sum(2).pow(2).sum(1)
        summed = d.reshape(n, d.shape[1], -1).sum(2)
    return sq if module.bias is None else sq + summed.pow(2).sum(1)


def _weight_grads(d: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
    """Per-example convolution weight gradients ``d @ patches^T``, with the operands in
    their stored orientation (``d`` is positions-major when the model is channels-last)."""
    if d.stride(1) == 1:
        return torch.bmm(patches, d.transpose(1, 2))  # (n, P, out channels)
    return torch.bmm(d, patches.transpose(1, 2))  # (n, out channels, P)


def expected_gradient_lengths(model: nn.Module, x: torch.Tensor, squared: bool = True,
                              names: list[str] | None = None) -> torch.Tensor:
    """EGL of each row of the normalised inputs ``x``: ``sum_y p(y|x) * |grad_y|(^2)``.

    Over every parameter of a model built from linear, convolution and (eval-mode)
    batch-norm layers, the labels share one forward pass in :func:`label_grad_sq_norms`;
    otherwise (other layers, or a subset ``names`` of the parameters) each label takes a
    ``vmap`` pass.
    """
    layerwise = label_grad_sq_norms(model, x) if names is None else None
    if layerwise is not None:
        probs, sq = layerwise
    else:
        with torch.no_grad():
            probs = torch.softmax(model(x), dim=1)
        labels = [torch.full((len(x),), y, device=x.device) for y in range(probs.shape[1])]
        sq = torch.stack([per_sample_grad_sq_norms(model, x, column, names).double()
                          for column in labels], dim=1)
    return (probs.double() * (sq if squared else sq.sqrt())).sum(1)


def last_layer_egl(embeddings: np.ndarray, head: nn.Linear, squared: bool = True
                   ) -> np.ndarray:
    """EGL over the final linear layer only, in closed form.

    For label ``y`` the gradient is ``(p - e_y) ⊗ h`` for the weights and ``p - e_y`` for
    the bias, so its squared length is ``||p - e_y||^2 (||h||^2 + 1)`` (``+ 0`` without bias).
    """
    h = torch.as_tensor(embeddings, dtype=torch.float64)
    weight = head.weight.detach().cpu().double()
    bias = head.bias.detach().cpu().double() if head.bias is not None else None
    probs = torch.softmax(nn.functional.linear(h, weight, bias), dim=1)
    # ||p - e_y||^2 = ||p||^2 - 2 p_y + 1, for every y at once: (n, C)
    residual = (probs.pow(2).sum(1, keepdim=True) - 2 * probs + 1).clamp_min(0)
    scale = h.pow(2).sum(1, keepdim=True) + (1.0 if bias is not None else 0.0)
    sq = residual * scale
    return (probs * (sq if squared else sq.sqrt())).sum(1).numpy()


class ExpectedGradientLength:
    """Query the examples with the largest expected gradient length.

    ``parameters="all"`` (the default) uses per-sample gradients of every parameter,
    computed in chunks of ``chunk_size`` examples (chosen from the parameter count when
    ``None``); ``"last"`` uses the final layer only, in closed form, which is far cheaper.
    """

    def __init__(self, parameters: Literal["all", "last"] = "all", squared: bool = True,
                 chunk_size: int | None = None):
        if parameters not in ("all", "last"):
            raise ValueError(f"egl: parameters must be 'all' or 'last', got {parameters!r}")
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"egl: chunk_size must be positive, got {chunk_size}")
        self.parameters = parameters
        self.squared = squared
        self.chunk_size = chunk_size

    def scores(self, context: QueryContext) -> np.ndarray:
        """The expected gradient length of each unlabelled example."""
        candidates = context.unlabeled_idx
        model = context.model.eval()
        if self.parameters == "last":
            return last_layer_egl(context.embeddings(candidates), model.head, self.squared)
        return self._all_parameter_scores(context, model, candidates)

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        return top_k(self.scores(context), context.unlabeled_idx, budget)

    def _all_parameter_scores(self, context: QueryContext, model: nn.Module,
                              candidates: np.ndarray) -> np.ndarray:
        n_params = sum(p.numel() for p in model.parameters())
        chunk = self.chunk_size or max(1, GRADIENT_FLOATS_PER_CHUNK // n_params)
        scores = [
            expected_gradient_lengths(
                model, context.pool_inputs(part).to(context.device), self.squared).cpu()
            for part in np.array_split(candidates, max(1, -(-len(candidates) // chunk)))
        ]
        return torch.cat(scores).numpy()
