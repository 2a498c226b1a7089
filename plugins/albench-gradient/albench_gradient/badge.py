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

from albench.types import QueryContext


def gradient_factors(embeddings: np.ndarray, head: torch.nn.Linear
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(u, h)`` in float64 with ``u = p - onehot(argmax p)``: the embedding is ``u ⊗ h``."""
    h = torch.as_tensor(embeddings, dtype=torch.float64)
    bias = None if head.bias is None else head.bias.detach().cpu().double()
    u = torch.softmax(torch.nn.functional.linear(h, head.weight.detach().cpu().double(), bias),
                      dim=1)
    u[torch.arange(len(u)), u.argmax(1)] -= 1.0
    return u.numpy(), h.numpy()


def draw(weights: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn with probability proportional to the non-negative ``weights``."""
    cdf = np.cumsum(weights)
    index = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    return min(index, int(np.flatnonzero(weights)[-1]))  # guards a round-up to the total


def kmeans_pp_seeds(u: np.ndarray, h: np.ndarray, k: int, rng: np.random.Generator
                    ) -> np.ndarray:
    """``k`` distinct row indices of ``u ⊗ h`` chosen by k-means++ seeding.

    The first seed is the row of largest norm (as in BADGE); each next one is drawn with
    probability proportional to its squared distance to the nearest seed so far. Those
    distances are kept up to date incrementally, and only for rows that the new seed could
    be nearer to: by Cauchy-Schwarz on ``h``, ``||g_i - g_c||^2 >= ||g_i||^2 + ||g_c||^2 -
    2 |u_i · u_c| ||h_i|| ||h_c||``, so rows whose bound is no smaller than their current
    distance are skipped without touching ``h``. (Matrix-vector products go through
    ``einsum``: BLAS threads cost more than they save on these skinny shapes.)
    """
    n = len(u)
    h_norms = np.sqrt(np.einsum("ij,ij->i", h, h))
    sq_norms = np.einsum("ij,ij->i", u, u) * h_norms**2
    chosen = np.empty(k, dtype=np.int64)
    taken = np.zeros(n, dtype=bool)
    nearest = np.full(n, np.inf)
    for j in range(k):
        if j == 0:
            c = int(np.argmax(sq_norms))
        elif nearest.sum() > 0:
            c = draw(nearest, rng)
        else:  # every remaining row coincides with a seed: any of them will do
            c = int(rng.choice(np.flatnonzero(~taken)))
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


class Badge:
    """Batch Active learning by Diverse Gradient Embeddings."""

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        candidates = context.unlabeled_idx
        u, h = gradient_factors(context.embeddings(candidates), context.model.head)
        return candidates[kmeans_pp_seeds(u, h, budget, context.rng)]
