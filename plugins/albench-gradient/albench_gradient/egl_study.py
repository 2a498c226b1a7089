"""The DAL study's EGL score (``EGLSampling`` in its ``query_methods.py``).

The study does not compute a per-example expected gradient length. It splits the unlabelled
pool, in index order, into chunks of 100 examples (the last one shorter); its pool had been
shuffled once at load, so each chunk was a random group. For each chunk
and each label ``i`` takes the squared norm of the gradient, over every trainable parameter,
of the *mean* cross-entropy of the chunk with every example labelled ``i``: one scalar
``G[chunk, i]`` shared by the chunk's examples. An example's score is
``sum_i p_i(x) * G[chunk(x), i]``. The model is in inference mode (Keras learning phase 0:
dropout off, batch norm on its moving statistics). The cross-entropy is Keras's: the
probabilities are renormalised and clipped to ``[1e-7, 1 - 1e-7]`` before the log, so a
label whose probability is below ``1e-7`` contributes no gradient.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from albench import QueryContext
from albench.scoring import top_k

KERAS_EPSILON = 1e-7
"""Keras's ``backend.epsilon()``, the clip of its categorical cross-entropy."""


def chunk_mean_grad_sq_norms(model: nn.Module, x: torch.Tensor, clip: float = KERAS_EPSILON
                             ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(probs, G)`` for one chunk ``x``: the probabilities ``(n, C)`` and, per label ``i``,
    the squared gradient norm of the chunk's mean clipped cross-entropy with every example
    labelled ``i`` (``(C,)``, float64). One forward pass, one backward pass per label."""
    params = [p for p in model.parameters() if p.requires_grad]
    with torch.enable_grad():
        probs = torch.softmax(model(x), dim=1)
        normalised = probs / probs.sum(1, keepdim=True)
        log = normalised.clamp(clip, 1.0 - clip).log()
        classes = probs.shape[1]
        norms = torch.empty(classes, dtype=torch.float64)
        for i in range(classes):
            grads = torch.autograd.grad(-log[:, i].mean(), params, retain_graph=i + 1 < classes,
                                        allow_unused=True)
            norms[i] = sum(g.double().pow(2).sum().cpu() for g in grads if g is not None)
    return probs.detach().double().cpu(), norms


def study_egl_scores(model: nn.Module, inputs, n: int, chunk: int = 100,
                     clip: float = KERAS_EPSILON) -> np.ndarray:
    """The study's EGL of ``n`` examples: ``inputs(start, stop)`` gives the normalised inputs
    of examples ``start:stop`` (in pool order) on the model's device."""
    model.eval()
    scores = np.empty(n)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        probs, norms = chunk_mean_grad_sq_norms(model, inputs(start, stop), clip)
        scores[start:stop] = (probs * norms).sum(1).numpy()
    return scores


class StudyEGL:
    """The study's EGL: chunk-mean gradient norms per label, weighted by each example's
    probabilities; ``chunk`` (default 100, the study's) examples per gradient. Like the
    study's, the chunks are consecutive unlabelled examples in an order of the pool shuffled
    once per run (``context.run_order``)."""

    def __init__(self, chunk: int = 100, clip: float = KERAS_EPSILON):
        if chunk < 1:
            raise ValueError(f"egl-study: chunk must be positive, got {chunk}")
        if not 0 <= clip < 0.5:
            raise ValueError(f"egl-study: clip must be in [0, 0.5), got {clip}")
        self.chunk, self.clip = chunk, clip

    def scores(self, context: QueryContext) -> np.ndarray:
        order = context.run_order(context.unlabeled_idx)
        shuffled = context.unlabeled_idx[order]

        def inputs(start: int, stop: int) -> torch.Tensor:
            return context.pool_inputs(shuffled[start:stop]).to(context.device)

        scores = np.empty(len(order))
        scores[order] = study_egl_scores(context.model, inputs, len(order), self.chunk,
                                         self.clip)
        return scores

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        return top_k(self.scores(context), context.unlabeled_idx, budget)
