"""Greedy k-center in O(n·d) memory: distances by matrix products, in chunks, on any device."""

from __future__ import annotations

import numpy as np
import torch

DEFAULT_CHUNK_ELEMENTS = 2**24
"""Largest distance block held at once (2**24 float32 values: 64 MiB)."""


def min_sq_distances(points: torch.Tensor, centres: torch.Tensor,
                     chunk_elements: int = DEFAULT_CHUNK_ELEMENTS) -> torch.Tensor:
    """Squared Euclidean distance from each row of ``points`` to its nearest row of ``centres``.

    Computed as ``|p|² - 2 p·c + |c|²`` one block of at most ``chunk_elements`` pairs at a
    time, so memory stays O((n + m)·d). With no centres every distance is ``inf``.
    """
    out = torch.full((len(points),), float("inf"), dtype=points.dtype, device=points.device)
    if len(centres) == 0 or len(points) == 0:
        return out
    point_norms = points.square().sum(1)
    centre_norms = centres.square().sum(1)
    centre_block = min(len(centres), chunk_elements)
    row_block = max(1, chunk_elements // centre_block)
    for c0 in range(0, len(centres), centre_block):
        block_centres = centres[c0:c0 + centre_block]
        block_norms = centre_norms[c0:c0 + centre_block]
        for r0 in range(0, len(points), row_block):
            rows = slice(r0, r0 + row_block)
            sq = torch.addmm(point_norms[rows, None], points[rows], block_centres.T, alpha=-2)
            sq += block_norms
            out[rows] = torch.minimum(out[rows], sq.min(dim=1).values)
    return out.clamp_(min=0)


def greedy_k_center(pool: torch.Tensor, centres: torch.Tensor, budget: int,
                    first: int | None = None,
                    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS) -> tuple[np.ndarray, float]:
    """Pick ``budget`` rows of ``pool``, each the one farthest from every centre so far.

    ``centres`` are the labelled points' embeddings. With no centres the first pick is row
    ``first`` (required then). Each pick costs one matrix-vector product over the pool.
    Returns the picked rows and the covering radius: the largest distance from a pool
    point to its nearest centre or pick.
    """
    if budget > len(pool):
        raise ValueError(f"greedy_k_center: budget {budget} exceeds the pool of {len(pool)}")
    if len(centres) == 0 and budget > 0 and first is None:
        raise ValueError("greedy_k_center: with no centres, pass the first pick as `first`")
    min_sq = min_sq_distances(pool, centres, chunk_elements)
    norms = pool.square().sum(1)
    picks = torch.empty(budget, dtype=torch.long, device=pool.device)
    for step in range(budget):
        if step == 0 and len(centres) == 0:
            pick = torch.tensor(first, device=pool.device)
        else:
            pick = torch.argmax(min_sq)  # stays a tensor: no host sync per step on a GPU
        picks[step] = pick
        sq = torch.addmv(norms, pool, pool[pick], alpha=-2).add_(norms[pick])
        torch.minimum(min_sq, sq, out=min_sq)
        min_sq[pick] = -float("inf")  # never picked twice
    radius = float(min_sq.clamp(min=0).max().sqrt()) if len(pool) else 0.0
    return picks.cpu().numpy(), radius
