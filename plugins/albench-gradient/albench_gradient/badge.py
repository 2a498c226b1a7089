"""BADGE (Ash et al., 2020): k-means++ seeding on last-layer gradient embeddings.

Each unlabelled ``x`` is embedded as the cross-entropy gradient of the final layer's
weights had its predicted label been true: ``g = (p - e_yhat) ⊗ h`` with ``h`` the
penultimate embedding. ``g`` lives in ``C·d`` dimensions, but it is never built: because
``g_i · g_j = ((p_i - e_i) · (p_j - e_j)) (h_i · h_j)``, every squared distance the seeding
needs comes from an ``n × C`` and an ``n × d`` matrix.
"""

from __future__ import annotations

import numpy as np
import torch

from albench import QueryContext


def gradient_factors(embeddings: np.ndarray, head: torch.nn.Linear
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(u, h)`` in float64 with ``u = p - onehot(argmax p)``: the embedding is ``u ⊗ h``."""
    h = torch.as_tensor(embeddings, dtype=torch.float64)
    bias = None if head.bias is None else head.bias.detach().cpu().double()
    u = torch.softmax(torch.nn.functional.linear(h, head.weight.detach().cpu().double(), bias),
                      dim=1)
    u[torch.arange(len(u)), u.argmax(1)] -= 1.0
    return u.numpy(), h.numpy()


def draw(weights: np.ndarray, uniform: float) -> int:
    """The index that ``uniform`` (in [0, 1)) picks with probability proportional to the
    non-negative ``weights`` (not all zero)."""
    cdf = np.cumsum(weights)
    index = int(np.searchsorted(cdf, uniform * cdf[-1], side="right"))
    return min(index, int(np.flatnonzero(weights)[-1]))  # guards a round-up to the total


def kmeans_pp_seeds(u: np.ndarray, h: np.ndarray, k: int, rng: np.random.Generator
                    ) -> np.ndarray:
    """``k`` distinct row indices of ``u ⊗ h`` chosen by k-means++ seeding.

    The first seed is the row of largest norm (as in BADGE); each next one is drawn with
    probability proportional to its squared distance to the nearest seed so far (one
    ``rng.random()`` per seed). Those distances are kept up to date incrementally, and only
    for rows that the new seed could be nearer to: by Cauchy-Schwarz on ``h``,
    ``||g_i - g_c||^2 >= ||g_i||^2 + ||g_c||^2 - 2 |u_i · u_c| ||h_i|| ||h_c||``, so rows
    whose bound is no smaller than their current distance are skipped without touching
    ``h``. (Matrix-vector products go through ``einsum``: BLAS threads cost more than they
    save on these skinny shapes.) :func:`kmeans_pp_seeds_dense` is the GPU version.
    """
    n = len(u)
    uniforms = rng.random(k)
    h_norms = np.sqrt(np.einsum("ij,ij->i", h, h))
    sq_norms = np.einsum("ij,ij->i", u, u) * h_norms**2
    chosen = np.empty(k, dtype=np.int64)
    taken = np.zeros(n, dtype=bool)
    nearest = np.full(n, np.inf)
    for j in range(k):
        if j == 0:
            c = int(np.argmax(sq_norms))
        elif nearest.sum() > 0:
            c = draw(nearest, uniforms[j - 1])
        else:  # every remaining row coincides with a seed: any of them will do
            left = np.flatnonzero(~taken)
            c = int(left[int(uniforms[j - 1] * len(left))])
        chosen[j] = c
        taken[c] = True
        u_dots = np.einsum("ij,j->i", u, u[c])
        bound = sq_norms + sq_norms[c] - 2.0 * np.abs(u_dots) * h_norms * h_norms[c]
        rows = np.flatnonzero(bound < nearest)
        h_dots = np.einsum("ij,j->i", h[rows], h[c])
        dist = sq_norms[rows] + sq_norms[c] - 2.0 * u_dots[rows] * h_dots
        nearest[rows] = np.minimum(nearest[rows], np.maximum(dist, 0.0))
        nearest[c] = 0.0
    return chosen


def kmeans_pp_seeds_dense(u: torch.Tensor, h: torch.Tensor, k: int, rng: np.random.Generator
                          ) -> np.ndarray:
    """:func:`kmeans_pp_seeds` for tensors on a GPU: the same seeds from the same ``rng``.

    Every step updates every row (no pruning: a data-dependent row set would make the host
    wait for the device at each step), and the draw happens on the device too, so the
    ``k`` steps queue up without a single synchronisation until the seeds are read back.
    """
    n, device = len(u), u.device
    uniforms = torch.as_tensor(rng.random(k), dtype=u.dtype, device=device)
    rows = torch.arange(n, device=device)
    sq_norms = u.pow(2).sum(1) * h.pow(2).sum(1).sqrt() ** 2  # rounded as the CPU version
    chosen = torch.empty(k, dtype=torch.long, device=device)
    taken = torch.zeros(n, dtype=torch.bool, device=device)
    nearest = torch.full((n,), torch.inf, dtype=u.dtype, device=device)
    for j in range(k):  # c: a one-element index tensor, so that nothing waits for the device
        if j == 0:
            c = sq_norms.argmax().view(1)
        else:
            cdf = nearest.cumsum(0)
            drawn = torch.searchsorted(cdf, uniforms[j - 1:j] * cdf[-1], right=True)
            drawn = torch.minimum(drawn, torch.where(nearest > 0, rows, -1).max())
            left = (~taken).cumsum(0).to(u.dtype)  # all weights 0: uniformly among the rest
            spare = torch.searchsorted(left, (uniforms[j - 1:j] * left[-1]).floor(), right=True)
            c = torch.where(cdf[-1] > 0, drawn, spare)
        chosen[j:j + 1] = c
        taken[c] = True
        dots = (u @ u[c].T).squeeze(1) * (h @ h[c].T).squeeze(1)
        nearest = torch.minimum(nearest, (sq_norms + sq_norms[c] - 2.0 * dots).clamp_min(0.0))
        nearest[c] = 0.0
    return chosen.cpu().numpy()


class Badge:
    """Batch Active learning by Diverse Gradient Embeddings (seeding on the context's device)."""

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        candidates = context.unlabeled_idx
        u, h = gradient_factors(context.embeddings(candidates), context.model.head)
        if context.device.type == "cuda":
            u, h = (torch.as_tensor(a, device=context.device) for a in (u, h))
            return candidates[kmeans_pp_seeds_dense(u, h, budget, context.rng)]
        return candidates[kmeans_pp_seeds(u, h, budget, context.rng)]

    def selection_order(self, context: QueryContext, budget: int) -> np.ndarray:
        """The batch in the order k-means++ seeds it (as :meth:`select` returns it)."""
        return self.select(context, budget)
