"""Deep-ensemble query strategies and the training of their members."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from albench.builtin.strategies import top_k
from albench.training import Trainer
from albench.types import QueryContext


class EnsembleSampling:
    """Score the pool with ``members`` models trained independently on the labelled set.

    Member 0 is the round's own model (trained by the harness with its own seed); the
    other ``members - 1`` are trained from scratch by the same routine with seeds drawn
    from ``context.rng``. ``parallel`` > 1 trains them in that many worker processes.
    """

    def __init__(self, name: str, score: Callable[[np.ndarray], np.ndarray], members: int = 5,
                 parallel: int = 1):
        if members < 2:
            raise ValueError(f"{name}: an ensemble needs at least 2 members, got {members}")
        if parallel < 1:
            raise ValueError(f"{name}: parallel must be at least 1, got {parallel}")
        self.name, self.score, self.members, self.parallel = name, score, members, parallel

    def scores(self, context: QueryContext) -> np.ndarray:
        """The ensemble's score of each unlabelled example (trains ``members - 1`` models)."""
        seeds = [int(context.rng.integers(2**31)) for _ in range(self.members - 1)]
        models = [context.model, *train_members(context, seeds, self.parallel, self.name)]
        probs = np.stack([context.predict_proba(context.unlabeled_idx, model=m) for m in models])
        return self.score(probs)

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        return top_k(self.scores(context), context.unlabeled_idx, budget)


def train_members(context: QueryContext, seeds: list[int], parallel: int = 1,
                  strategy: str = "ensemble") -> list[nn.Module]:
    """One model per seed, trained from scratch on the labelled set by the harness's routine.

    With ``parallel`` > 1 the models train in spawned worker processes, each with an equal
    share of torch's threads; a model's weights depend on its seed alone either way.
    """
    workers = min(parallel, len(seeds))
    if workers <= 1:
        return [context.train_model(context.labeled_idx, seed=seed) for seed in seeds]
    labelled = _labelled_trainer(context)
    try:
        pickle.dumps(labelled.model_factory)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise ValueError(f"{strategy}: parallel training sends the model factory to worker "
                         f"processes, but it cannot be pickled ({exc}); use parallel=1") from exc
    threads = max(1, torch.get_num_threads() // workers)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=torch.set_num_threads, initargs=(threads,)) as pool:
        states = list(pool.map(_fit_state, [labelled] * len(seeds), seeds))
    models = []
    for seed, state in zip(seeds, states):
        model = context.trainer.new_model(seed)
        model.load_state_dict(state)
        models.append(model.eval())
    return models


def _labelled_trainer(context: QueryContext) -> Trainer:
    """A trainer whose pool is just the labelled examples, cheap to send to a worker."""
    dataset = context.dataset
    x = dataset.x_pool[context.labeled_idx]
    small = replace(dataset, x_pool=x, y_pool=context.labeled_labels, x_test=x[:0],
                    y_test=context.labeled_labels[:0], revision=f"{dataset.revision}/labelled")
    trainer = context.trainer
    return Trainer(small, trainer.model_factory, trainer.config, trainer.device,
                   trainer.model_options)


def _fit_state(trainer: Trainer, seed: int) -> dict[str, torch.Tensor]:
    """Worker: train on the trainer's whole (labelled) pool; the weights, on the CPU."""
    model = trainer.fit(trainer.dataset.x_pool, trainer.dataset.y_pool, seed).model
    return {key: value.cpu() for key, value in model.state_dict().items()}
