"""MC dropout computed chunk by chunk, by default with one mask per pass for every example.

Each of the ``passes`` stochastic passes is one network drawn from the dropout posterior
(a "consistent" mask, as BatchBALD's joint estimate requires). ``masks="per-example"``
instead draws an independent mask for every example in every pass, as Keras's dropout in
training mode does (the DAL study's Bayesian strategies). Everything before the first
dropout layer is deterministic, so it runs once per example: the first dropout layer
repeats its input ``passes`` times and each dropout layer applies the pass's mask. For a
conv net whose only dropout sits in its dense layers this is about ``passes`` times faster
than ``passes`` full forwards. A model whose later layers reuse pre-dropout tensors (a skip
around dropout) falls back to repeating the input itself.

``batch_stats`` puts batch norm on batch statistics, as Keras's learning phase 1 did in the
DAL study's Bayesian strategies: each pass normalises every batch-norm layer's input over
the examples of its chunk (the study's chunks of 128 or 1,000 unlabelled examples) instead of
using the running statistics. The passes of a chunk then run in slices of at most
:data:`ROWS` rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Self

import numpy as np
import torch
from torch import nn

from albench.devices import inference_batch_size

if TYPE_CHECKING:
    from albench.types import QueryContext

ROWS = 32768
"""Rows (passes × examples) per forward past the first dropout layer: activations there
take ``ROWS × width × 4`` bytes (32 MB for a width of 256)."""

_SUPPORTED = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
MASKS = ("per-pass", "per-example")

Masks = Literal["per-pass", "per-example"]


class ConsistentMCDropout:
    """Context manager: ``proba(x)`` gives ``(passes, len(x), C)`` softmax outputs.

    Per pass, masks are drawn from ``seed`` on first use and reused for every later chunk,
    so a pool scored in chunks sees the same ``passes`` networks throughout. Per example,
    every chunk draws fresh masks from the same generator, so the masks depend on ``seed``
    and the chunk sizes.
    """

    def __init__(self, model: nn.Module, passes: int, seed: int, strategy: str,
                 masks: Masks = "per-pass", batch_stats: bool = False):
        if passes < 1:
            raise ValueError(f"{strategy}: passes must be at least 1, got {passes}")
        if masks not in MASKS:
            raise ValueError(f"{strategy}: masks must be 'per-pass' or 'per-example', "
                             f"got {masks!r}")
        layers = [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]
        if not layers:
            raise ValueError(f"{strategy} uses MC dropout and needs a model with dropout "
                             f"layers, but {type(model).__name__} has none; choose a model "
                             f"that has dropout (lenet, mlp) or a strategy without MC dropout")
        unsupported = sorted({type(m).__name__ for m in layers if type(m) not in _SUPPORTED})
        if unsupported:
            raise ValueError(f"{strategy}: MC dropout supports nn.Dropout and "
                             f"nn.Dropout1d/2d/3d, not {', '.join(unsupported)}")
        self.model, self.passes, self.seed, self.layers = model, passes, seed, layers
        self.per_example = masks == "per-example"
        norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        self.batch_norms = norms if batch_stats else []
        """The batch-norm layers put on batch statistics (none unless ``batch_stats``)."""
        self._passes = range(passes)  # the passes of the forward under way
        self._examples = 0  # examples in the chunk under way
        self.share_prefix = True
        self._masks: list[torch.Tensor] = []  # by call order within one forward
        self._generator: torch.Generator | None = None
        self._calls = 0
        self._repeat_pending = False
        self._handles: list = []
        self._was_training = False

    def __enter__(self) -> Self:
        self._was_training = self.model.training
        self.model.eval()
        self._handles = [m.register_forward_pre_hook(self._apply) for m in self.layers]
        self._handles += [m.register_forward_hook(self._batch_statistics)
                          for m in self.batch_norms]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self.model.train(self._was_training)

    def proba(self, x: torch.Tensor) -> np.ndarray:
        """Softmax outputs of every pass for the normalised inputs ``x``: ``(passes, n, C)``."""
        self._examples = len(x)
        if not self.batch_norms:
            return self._passes_proba(x, range(self.passes))
        step = max(1, ROWS // len(x))
        return np.concatenate([self._passes_proba(x, range(p, min(p + step, self.passes)))
                               for p in range(0, self.passes, step)])

    def _passes_proba(self, x: torch.Tensor, passes: range) -> np.ndarray:
        n, self._passes = len(x), passes
        if self.share_prefix:
            try:
                out = self._forward(x, repeat_at_dropout=True)
                if out.shape[0] == len(passes) * n:
                    return out.reshape(len(passes), n, -1).numpy()
            except RuntimeError:
                pass
            self.share_prefix = False
        repeated = x.repeat(len(passes), *([1] * (x.ndim - 1)))
        return self._forward(repeated, repeat_at_dropout=False).reshape(len(passes), n,
                                                                         -1).numpy()

    def _forward(self, x: torch.Tensor, repeat_at_dropout: bool) -> torch.Tensor:
        self._calls, self._repeat_pending = 0, repeat_at_dropout
        with torch.inference_mode():
            return torch.softmax(self.model(x), dim=1).float().cpu()

    def _apply(self, module: nn.Module, args: tuple) -> tuple:
        x = args[0]
        if self._repeat_pending:
            x = x.repeat(len(self._passes), *([1] * (x.ndim - 1)))
            self._repeat_pending = False
        mask = self._mask(self._calls, module, x)
        self._calls += 1
        grouped = x.reshape(len(self._passes), -1, *x.shape[1:])
        return ((grouped * mask).reshape(x.shape),) + tuple(args[1:])

    def _batch_statistics(self, module: nn.Module, args: tuple, output: torch.Tensor
                          ) -> torch.Tensor:
        """``module``'s output with each pass's chunk normalised by its own statistics
        (biased variance, as Keras and PyTorch in training mode); before the first dropout
        layer the chunk is not yet repeated per pass, and every pass has the same."""
        x = args[0]
        grouped = x.reshape(len(x) // self._examples, self._examples, *x.shape[1:])
        dims = (1, *range(3, grouped.ndim))  # examples and spatial positions
        mean = grouped.mean(dims, keepdim=True)
        var = grouped.var(dims, correction=0, keepdim=True)
        out = (grouped - mean) * torch.rsqrt(var + module.eps)
        if module.affine:
            shape = (1, 1, -1, *[1] * (grouped.ndim - 3))
            out = out * module.weight.view(shape) + module.bias.view(shape)
        return out.reshape(x.shape)

    def _mask(self, call: int, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if call < len(self._masks):
            return self._masks[call][self._passes.start:self._passes.stop]
        if self._generator is None:
            self._generator = torch.Generator(device=x.device).manual_seed(self.seed)
        features = x.shape[1:]
        if type(module) is not nn.Dropout:  # channel-wise: one draw per channel
            features = (x.shape[1],) + (1,) * (x.ndim - 2)
        # per example: masks for the passes under way; per pass: every pass's, kept
        shape = ((len(self._passes), len(x) // len(self._passes)) if self.per_example
                 else (self.passes, 1))
        keep = torch.rand((*shape, *features), generator=self._generator,
                          device=x.device) >= module.p
        mask = keep.to(x.dtype) / (1.0 - module.p) if module.p < 1 else keep.to(x.dtype)
        if self.per_example:
            return mask
        self._masks.append(mask)
        return mask[self._passes.start:self._passes.stop]


def chunk_size(passes: int, device: torch.device) -> int:
    """Examples per forward: ``passes × examples`` at most :data:`ROWS`, and no more
    examples than a plain inference batch on ``device`` (whose layers before the first
    dropout run at their cache-friendly batch size on a CPU)."""
    return max(1, min(ROWS // passes, inference_batch_size(device)))


def mc_dropout_chunks(context: QueryContext, idx: np.ndarray, passes: int, strategy: str,
                      masks: Masks = "per-pass", batch_stats: int | None = None):
    """Yield ``(positions, probs)`` over ``idx`` in chunks: ``probs`` is ``(passes, chunk, C)``
    for the examples ``idx[positions]``.

    One seed, drawn from ``context.rng``, fixes the masks for the whole pool. The chunks are
    consecutive examples of ``idx``, except with ``batch_stats`` and a model with batch norm:
    then they are ``batch_stats`` consecutive examples in the order of one shuffle of the pool
    per run (:meth:`QueryContext.run_order`), the study's groups, and each pass normalises
    over its chunk (see the module's docstring). A model without batch norm is scored as
    without ``batch_stats``.
    """
    if batch_stats is not None and batch_stats < 1:
        raise ValueError(f"{strategy}: batch_stats must be at least 1, got {batch_stats}")
    seed = context.draw_seed()
    with ConsistentMCDropout(context.model, passes, seed, strategy, masks,
                             batch_stats is not None) as mc:
        if mc.batch_norms:
            order, step = context.run_order(idx), batch_stats
        else:
            order, step = np.arange(len(idx)), chunk_size(passes, context.device)
        for start in range(0, len(idx), step):
            positions = order[start:start + step]
            yield positions, mc.proba(context.pool_inputs(idx[positions]).to(context.device))


def mc_dropout_scores(context: QueryContext, idx: np.ndarray, passes: int,
                      score: Callable[[np.ndarray], np.ndarray], strategy: str,
                      masks: Masks = "per-pass", batch_stats: int | None = None) -> np.ndarray:
    """``score`` of each example's MC-dropout probabilities, never holding the whole pool's."""
    out = np.empty(len(idx))
    for positions, probs in mc_dropout_chunks(context, idx, passes, strategy, masks,
                                              batch_stats):
        out[positions] = score(probs)
    return out


def mc_dropout_proba(context: QueryContext, idx: np.ndarray, passes: int,
                     strategy: str = "MC dropout", masks: Masks = "per-pass") -> np.ndarray:
    """Every pass's probabilities for ``idx`` at once: ``(passes, len(idx), C)``."""
    out = np.empty((passes, len(idx), context.num_classes), dtype=np.float32)
    for positions, probs in mc_dropout_chunks(context, idx, passes, strategy, masks):
        out[:, positions] = probs
    return out
