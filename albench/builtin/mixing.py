"""``mix:A+B``: half of each batch from strategy A, the rest from strategy B (the DAL
study's ``CombinedSampling``), registered in :mod:`albench.builtin.mix`."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from albench.loop import validate_selection
from albench.types import QueryContext


class Mix:
    """A picks ``ceil(budget / 2)`` examples; B picks the rest from the pool minus A's picks.

    B sees the same model and labelled set as A (A's picks are not labelled yet, so B
    cannot use their labels); only its ``unlabeled_idx`` shrinks.
    """

    def __init__(self, first: object, second: object, first_name: str, second_name: str):
        self.first, self.second = first, second
        self.first_name, self.second_name = first_name, second_name

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        first_budget = (budget + 1) // 2
        picked = self._run(self.first, self.first_name, context, first_budget)
        rest = budget - first_budget
        if rest == 0:
            return picked
        remaining = context.unlabeled_idx[~np.isin(context.unlabeled_idx, picked)]
        more = self._run(self.second, self.second_name,
                         replace(context, unlabeled_idx=remaining), rest)
        return np.concatenate([picked, more])

    @staticmethod
    def _run(strategy, name: str, context: QueryContext, budget: int) -> np.ndarray:
        unavailable = np.ones(context.dataset.pool_size, dtype=bool)
        unavailable[context.unlabeled_idx] = False
        return validate_selection(strategy.select(context, budget), budget, unavailable, name)


def mix(argument: str, plugins, first_options: dict | None = None,
        second_options: dict | None = None) -> Mix:
    """Build ``mix:A+B`` from the registered strategies ``A`` and ``B``.

    ``first_options``/``second_options`` are passed to A's and B's factories.
    """
    names = [part.strip() for part in argument.split("+")]
    if len(names) != 2 or not all(names):
        raise ValueError(f"'mix:{argument}' must name two strategies joined by '+', "
                         f"as in 'mix:random+entropy'")
    first, second = (plugins.get("strategies", name).factory(**(options or {}))
                     for name, options in zip(names, (first_options, second_options)))
    return Mix(first, second, *names)
