"""Typicality-based active learning for albench: TypiClust, for tiny labelling budgets."""

from albench import hookimpl
from albench_typical.typiclust import TypiClust, cluster, typicality

__all__ = ["TypiClust", "cluster", "typicality"]


@hookimpl
def albench_register_strategies(register):
    register("typiclust", TypiClust, "most typical example of each of the largest uncovered "
             "k-means clusters (Hacohen et al. 2022; low budgets)")
