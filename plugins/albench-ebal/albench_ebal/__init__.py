"""Ensemble-based active learning for albench (Beluch et al. 2018) and query by committee.

The strategies load from :mod:`albench_ebal.factories` when one is first used."""

from albench import hookimpl


@hookimpl
def albench_register_strategies(register):
    register("ensemble-variation-ratios", "albench_ebal.factories:ensemble_variation_ratios",
             "least agreement of a deep ensemble with its modal class (members=5)")
    register("ensemble-entropy", "albench_ebal.factories:ensemble_entropy",
             "highest entropy of a deep ensemble's mean prediction (members=5)")
    register("ensemble-bald", "albench_ebal.factories:ensemble_bald",
             "highest mutual information between label and ensemble member (members=5)")
    register("qbc", "albench_ebal.factories:qbc",
             "query by committee: highest vote entropy of a deep ensemble (members=5)")
