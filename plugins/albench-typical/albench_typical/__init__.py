"""Typicality-based active learning for albench: TypiClust, for tiny labelling budgets.

The strategy and scikit-learn load from :mod:`albench_typical.typiclust` when it is first
used."""

import importlib

from albench import hookimpl

_EXPORTS = {
    "TypiClust": "albench_typical.typiclust",
    "cluster": "albench_typical.typiclust",
    "typicality": "albench_typical.typiclust",
}
"""Public names, imported from their module on first access (PEP 562)."""
__all__ = ["TypiClust", "cluster", "typicality"]


@hookimpl
def albench_register_strategies(register):
    register("typiclust", "albench_typical.typiclust:TypiClust", "most typical example of "
             "each of the largest uncovered k-means clusters (Hacohen et al. 2022; low budgets)")


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
