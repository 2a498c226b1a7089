"""DeepFool active learning (DFAL, Ducoffe & Precioso 2018), as the DAL study ran it.

The distance of an example to the decision boundary is estimated by the size of the
DeepFool perturbation that changes its predicted label; DFAL queries the examples with
the smallest perturbations. Settings follow the study: overshoot 0.02, at most 10
iterations, perturbed inputs clipped to the data's valid range; when fewer than
``budget`` examples change label, the study doubled the iterations and ran again.

DeepFool here is batched: each iteration takes the Jacobian of the logits for a whole
chunk of examples at once, and an example stops as soon as its label changes.
Perturbations are measured in the model's (normalised) input space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from albench import Dataset, QueryContext
from albench.scoring import top_k

STEP_EPS = 1e-5
"""Added to each logit gap, as in the reference implementation, to step just past the boundary."""


@dataclass
class DeepFoolResult:
    """One DeepFool run on a batch."""

    labels: torch.Tensor
    """The model's labels at the clean inputs."""
    residual: torch.Tensor
    """Accumulated perturbation ``r`` (before overshoot), to continue a later run from."""
    converged: torch.Tensor
    """Whether the label changed at ``clip(x + r)`` within the iterations allowed."""
    adversarial: torch.Tensor
    """The final inputs ``clip(x + (1 + overshoot) r)``."""
    crossed: torch.Tensor
    """Whether the model's label at ``adversarial`` differs from ``labels``."""
    distances: torch.Tensor
    """Norms of the final perturbations ``adversarial - x``."""


def _clip(x: torch.Tensor, bounds: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
    return x if bounds is None else torch.maximum(torch.minimum(x, bounds[1]), bounds[0])


def rival_classes(logits: torch.Tensor, labels: torch.Tensor, candidates: int | None = None
                  ) -> torch.Tensor:
    """The classes DeepFool steps towards, per row ``(B, K)``: every class but the row's
    label, or the ``candidates - 1`` others with the largest ``logits`` (cleverhans'
    ``nb_candidate``, which counts the label itself)."""
    rows, classes = torch.arange(len(logits), device=logits.device), logits.shape[1]
    if candidates is None or candidates >= classes:
        return (labels[:, None] + torch.arange(1, classes, device=logits.device)) % classes
    masked = logits.clone()
    masked[rows, labels] = -torch.inf
    return masked.topk(candidates - 1, dim=1).indices


def _gaps_and_gradients(model: nn.Module, x: torch.Tensor, own: torch.Tensor,
                        rivals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's logit gaps ``f_k - f_own`` to its ``rivals`` ``(B, K)`` and their
    gradients with respect to the input ``(B, K, *input)``.

    One forward pass, then one backward pass per rival column through the kept graph (each
    row of the logits depends on its own input only). On one CPU thread this is 2.5x faster
    than ``torch.func.jacrev``, whose batched backward falls back to slower kernels.
    """
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x)
        gaps = logits.gather(1, rivals) - logits.gather(1, own[:, None])
        k = rivals.shape[1]
        gradients = [torch.autograd.grad(gaps[:, j].sum(), x, retain_graph=j + 1 < k)[0]
                     for j in range(k)]
    return gaps.detach(), torch.stack(gradients, dim=1)


def deepfool(model: nn.Module, x: torch.Tensor, max_iter: int = 10, overshoot: float = 0.02,
             bounds: tuple[torch.Tensor, torch.Tensor] | None = None,
             labels: torch.Tensor | None = None, residual: torch.Tensor | None = None,
             candidates: int | None = None) -> DeepFoolResult:
    """Run DeepFool on a batch of normalised inputs ``x``.

    ``bounds`` are the lowest and highest valid inputs (broadcast against ``x``);
    ``labels`` (the model's labels at ``x``) and ``residual`` continue an earlier run
    that stopped at its iteration limit, with the same result as one longer run.
    ``candidates`` limits each step to the classes with the largest clean logits (see
    :func:`rival_classes`); each step costs one backward pass per class it considers.
    """
    model.eval()
    with torch.no_grad():
        clean = model(x)
        if labels is None:
            labels = clean.argmax(1)
        rivals = rival_classes(clean, labels, candidates)
        r = torch.zeros_like(x) if residual is None else residual.clone()
        converged = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    rows = torch.arange(len(x), device=x.device)
    for _ in range(max_iter):
        active = rows[~converged]
        if len(active) == 0:
            break
        at = _clip(x[active] + r[active], bounds)
        own = labels[active]
        gaps, w = _gaps_and_gradients(model, at, own, rivals[active])  # (A, K), (A, K, *input)
        with torch.no_grad():
            picks = torch.arange(len(active), device=x.device)
            w_norms = w.flatten(2).norm(dim=2)
            steps = (gaps.abs() + STEP_EPS) / w_norms.clamp_min(1e-12)
            target = steps.argmin(1)
            scale = steps[picks, target] / w_norms[picks, target].clamp_min(1e-12)
            r[active] += scale.view(-1, *[1] * (x.ndim - 1)) * w[picks, target]
            moved = model(_clip(x[active] + r[active], bounds)).argmax(1)
            converged[active] = moved != own
    with torch.no_grad():
        adversarial = _clip(x + (1 + overshoot) * r, bounds)
        crossed = model(adversarial).argmax(1) != labels
        distances = (adversarial - x).flatten(1).norm(dim=1)
    return DeepFoolResult(labels, r, converged, adversarial, crossed, distances)


def input_bounds(dataset: Dataset, device: torch.device | str = "cpu"
                 ) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``Dataset.input_range`` in the normalised space models see (``None`` if unbounded)."""
    if dataset.input_range is None:
        return None
    shape = (1, *dataset.input_shape)
    low, high = (dataset.inputs(np.full(shape, value, dtype=np.float32)).to(device)
                 for value in dataset.input_range)
    return torch.minimum(low, high), torch.maximum(low, high)


class Dfal:
    """Query the examples with the smallest DeepFool perturbations.

    Examples are attacked in chunks of ``chunk_size`` (by default the harness's pool
    inference batch: 128 on a CPU, 4096 on a GPU). While fewer than ``budget``
    examples have changed label, the study doubled ``max_iter`` and attacked again; here the
    examples still unconverged continue where they stopped (the same result, less work),
    for at most ``max_rounds`` rounds in all (10, 20, 40, 80 iterations by default). Any
    shortfall is filled with the examples of smallest perturbation that did not cross.
    ``candidates`` (default: every class, as the study) limits each step to the label and the
    ``candidates - 1`` classes of largest clean logit, like cleverhans' ``nb_candidate``:
    each step costs one backward pass per rival class, so this is the knob for speed.
    """

    def __init__(self, max_iter: int = 10, overshoot: float = 0.02, max_rounds: int = 4,
                 chunk_size: int | None = None, candidates: int | None = None):
        for name, value in (("max_iter", max_iter), ("max_rounds", max_rounds),
                            ("chunk_size", 1 if chunk_size is None else chunk_size)):
            if value < 1:
                raise ValueError(f"dfal: {name} must be at least 1, got {value}")
        if candidates is not None and candidates < 2:
            raise ValueError(f"dfal: candidates must be at least 2 (the label and one rival), "
                             f"got {candidates}")
        if overshoot < 0:
            raise ValueError(f"dfal: overshoot must be non-negative, got {overshoot}")
        self.max_iter, self.overshoot = max_iter, overshoot
        self.max_rounds, self.chunk_size = max_rounds, chunk_size
        self.candidates = candidates

    def scores(self, context: QueryContext, needed: int = 1) -> np.ndarray:
        """Minus each unlabelled example's perturbation size, those that did not change label
        below every one that did.

        Iterations double only while fewer than ``needed`` examples changed label, so
        :meth:`select` passes its budget; by default the scores are those of the first
        ``max_iter`` iterations (the same top-``budget`` whenever at least ``budget``
        examples change label within them).
        """
        distances, crossed = self.perturbations(context, context.unlabeled_idx, needed)
        if not len(distances):
            return distances
        # Distances are float32 values: shifting the uncrossed by more than the largest in
        # float64 keeps every distinct distance distinct.
        below = 1.0 + 2.0 * float(np.max(distances, where=np.isfinite(distances), initial=0.0))
        return np.where(crossed, -distances, -distances - below)

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        # Crossed examples first, each group by perturbation size, ties by pool index.
        return top_k(self.scores(context, budget), context.unlabeled_idx, budget)

    def perturbations(self, context: QueryContext, candidates: np.ndarray, needed: int
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Perturbation norms and whether each candidate changed label."""
        model, device = context.model.eval(), context.device
        bounds = input_bounds(context.dataset, device)
        chunk = self.chunk_size or context.inference_batch_size
        n = len(candidates)
        distances = np.full(n, np.inf)
        crossed = np.zeros(n, dtype=bool)
        todo = np.arange(n)
        labels = residuals = None  # where the unconverged examples in ``todo`` stopped
        done, total = 0, self.max_iter
        for _ in range(self.max_rounds):
            left_idx, left_labels, left_residuals = [todo[:0]], [], []
            for start in range(0, len(todo), chunk):
                part = todo[start:start + chunk]
                x = context.pool_inputs(candidates[part]).to(device)
                resume = {} if labels is None else {
                    "labels": labels[start:start + chunk].to(device),
                    "residual": residuals[start:start + chunk].to(device)}
                result = deepfool(model, x, total - done, self.overshoot, bounds, **resume,
                                  candidates=self.candidates)
                distances[part] = result.distances.double().cpu().numpy()
                crossed[part] = result.crossed.cpu().numpy()
                left = ~result.converged
                left_idx.append(part[left.cpu().numpy()])
                left_labels.append(result.labels[left].cpu())
                left_residuals.append(result.residual[left].cpu())
            todo = np.concatenate(left_idx)
            if crossed.sum() >= needed or len(todo) == 0:
                break
            labels, residuals = torch.cat(left_labels), torch.cat(left_residuals)
            done, total = total, 2 * total
        return distances, crossed
