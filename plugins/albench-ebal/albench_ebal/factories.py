"""The factory of each ensemble strategy that ``albench_ebal`` registers; albench imports
this module when one of them is first used."""

from albench_ebal import scores
from albench_ebal.strategies import EnsembleSampling


def _rule(name: str, score):
    def factory(members: int = 5, parallel: int = 1) -> EnsembleSampling:
        return EnsembleSampling(name, score, members, parallel)

    factory.__name__ = name
    return factory


ensemble_variation_ratios = _rule("ensemble-variation-ratios", scores.ensemble_variation_ratios)
ensemble_entropy = _rule("ensemble-entropy", scores.ensemble_entropy)
ensemble_bald = _rule("ensemble-bald", scores.ensemble_bald)
qbc = _rule("qbc", scores.vote_entropy)
