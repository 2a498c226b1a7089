"""The factory of each MC-dropout strategy that ``albench_bald`` registers; albench imports
this module (and torch) when one of them is first used."""

from albench_bald import scores
from albench_bald.strategies import MCDropoutSampling


def _rule(name: str, score, default_passes: int, default_masks: str = "per-pass",
          default_batch_stats: int | None = None):
    def factory(passes: int = default_passes, masks: str = default_masks,
                batch_stats: int | None = default_batch_stats) -> MCDropoutSampling:
        return MCDropoutSampling(name, score, passes, masks, batch_stats)

    factory.__name__ = name
    return factory


bayesian_least_confidence = _rule("bayesian-least-confidence", scores.bayesian_least_confidence,
                                  20)
bayesian_entropy = _rule("bayesian-entropy", scores.bayesian_entropy, 100)
bayesian_least_confidence_study = _rule("bayesian-least-confidence-study",
                                        scores.bayesian_least_confidence, 20, "per-example", 128)
bayesian_entropy_study = _rule("bayesian-entropy-study", scores.bayesian_entropy, 100,
                               "per-example", 1000)
bald = _rule("bald", scores.bald, 100)
variation_ratios = _rule("variation-ratios", scores.variation_ratios, 20)
