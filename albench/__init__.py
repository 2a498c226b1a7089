"""albench: a plugin-based benchmark suite for deep active learning.

The public surface for plugin authors: the names below, :mod:`albench.scoring`,
:mod:`albench.mc_dropout` and :mod:`albench.testing` (and, for executor plugins,
:mod:`albench.executors` and the records of :mod:`albench.results`). Every other module is
internal and may change without notice; see CONTRIBUTING.
"""

import pluggy

from albench.types import (
    ALModel,
    Dataset,
    OrderingStrategy,
    QueryContext,
    ScoringStrategy,
    Strategy,
)

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("albench")
"""Decorator that marks a function as an albench hook implementation."""

from albench.api import run  # after hookimpl, which albench.api imports

__all__ = ["ALModel", "Dataset", "OrderingStrategy", "QueryContext", "ScoringStrategy",
           "Strategy", "__version__", "hookimpl", "run"]
