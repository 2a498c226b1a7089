"""Ensemble-based active learning for albench (Beluch et al. 2018) and query by committee."""

from albench import hookimpl
from albench_ebal.scores import (
    ensemble_bald,
    ensemble_entropy,
    ensemble_variation_ratios,
    vote_entropy,
)
from albench_ebal.strategies import EnsembleSampling


def _rule(name: str, score):
    def factory(members: int = 5, parallel: int = 1) -> EnsembleSampling:
        return EnsembleSampling(name, score, members, parallel)

    factory.__name__ = name
    return factory


@hookimpl
def albench_register_strategies(register):
    register("ensemble-variation-ratios", _rule("ensemble-variation-ratios",
                                                 ensemble_variation_ratios),
             "least agreement of a deep ensemble with its modal class (members=5)")
    register("ensemble-entropy", _rule("ensemble-entropy", ensemble_entropy),
             "highest entropy of a deep ensemble's mean prediction (members=5)")
    register("ensemble-bald", _rule("ensemble-bald", ensemble_bald),
             "highest mutual information between label and ensemble member (members=5)")
    register("qbc", _rule("qbc", vote_entropy),
             "query by committee: highest vote entropy of a deep ensemble (members=5)")
