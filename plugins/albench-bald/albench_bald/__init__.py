"""MC-dropout query strategies for albench (Gal et al. 2017; Houlsby et al. 2011;
Kirsch et al. 2019).

The strategies and torch load from :mod:`albench_bald.factories` and
:mod:`albench_bald.strategies` when one is first used."""

from albench import hookimpl


@hookimpl
def albench_register_strategies(register):
    register("bayesian-least-confidence", "albench_bald.factories:bayesian_least_confidence",
             "lowest top-class probability of the mean MC-dropout prediction (passes=20; "
             "masks='per-example' for the DAL study's masks)")
    register("bayesian-entropy", "albench_bald.factories:bayesian_entropy",
             "highest entropy of the mean MC-dropout prediction (passes=100; "
             "masks='per-example' for the DAL study's masks)")
    register("bayesian-least-confidence-study",
             "albench_bald.factories:bayesian_least_confidence_study",
             "the DAL study's Bayesian rule: bayesian-least-confidence with a fresh dropout "
             "mask for every example in every pass (masks='per-example') and batch norm on "
             "each pass's statistics over chunks of 128 (batch_stats=128)")
    register("bayesian-entropy-study", "albench_bald.factories:bayesian_entropy_study",
             "the DAL study's Bayesian entropy: bayesian-entropy with masks='per-example' "
             "and batch_stats=1000")
    register("bald", "albench_bald.factories:bald",
             "highest mutual information between label and weights (passes=100)")
    register("variation-ratios", "albench_bald.factories:variation_ratios",
             "least agreement of MC-dropout passes with the modal class (passes=20)")
    register("batchbald", "albench_bald.strategies:BatchBALD",
             "greedy joint mutual information of the batch among the top BALD points "
             "(passes=100, candidates=1000, samples=1000)")
