"""MC-dropout query strategies for albench (Gal et al. 2017; Houlsby et al. 2011;
Kirsch et al. 2019)."""

from albench import hookimpl
from albench_bald.scores import bald, bayesian_entropy, bayesian_least_confidence, variation_ratios
from albench_bald.strategies import BatchBALD, MCDropoutSampling


def _rule(name: str, score, default_passes: int, default_masks: str = "per-pass"):
    def factory(passes: int = default_passes, masks: str = default_masks) -> MCDropoutSampling:
        return MCDropoutSampling(name, score, passes, masks)

    factory.__name__ = name
    return factory


@hookimpl
def albench_register_strategies(register):
    register("bayesian-least-confidence", _rule("bayesian-least-confidence",
                                                 bayesian_least_confidence, 20),
             "lowest top-class probability of the mean MC-dropout prediction (passes=20; "
             "masks='per-example' for the DAL study's masks)")
    register("bayesian-entropy", _rule("bayesian-entropy", bayesian_entropy, 100),
             "highest entropy of the mean MC-dropout prediction (passes=100; "
             "masks='per-example' for the DAL study's masks)")
    register("bayesian-least-confidence-study",
             _rule("bayesian-least-confidence-study", bayesian_least_confidence, 20,
                   "per-example"),
             "the DAL study's Bayesian rule: bayesian-least-confidence with a fresh dropout "
             "mask for every example in every pass (masks='per-example')")
    register("bayesian-entropy-study",
             _rule("bayesian-entropy-study", bayesian_entropy, 100, "per-example"),
             "the DAL study's Bayesian entropy: bayesian-entropy with masks='per-example'")
    register("bald", _rule("bald", bald, 100),
             "highest mutual information between label and weights (passes=100)")
    register("variation-ratios", _rule("variation-ratios", variation_ratios, 20),
             "least agreement of MC-dropout passes with the modal class (passes=20)")
    register("batchbald", BatchBALD,
             "greedy joint mutual information of the batch among the top BALD points "
             "(passes=100, candidates=1000, samples=1000)")
