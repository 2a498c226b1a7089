"""Typicality-based active learning for albench: TypiClust, for tiny labelling budgets.

The strategy and scikit-learn load from :mod:`albench_typical.typiclust` when it is first
used."""

from albench import hookimpl


@hookimpl
def albench_register_strategies(register):
    register("typiclust", "albench_typical.typiclust:TypiClust", "most typical example of "
             "each of the largest uncovered k-means clusters (Hacohen et al. 2022; low budgets)")
