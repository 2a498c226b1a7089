"""Adversarial active learning for albench: DFAL, ranking examples by DeepFool distance.

The strategy and torch load from :mod:`albench_adversarial.dfal` when it is first used."""

from albench import hookimpl


@hookimpl
def albench_register_strategies(register):
    register("dfal", "albench_adversarial.dfal:Dfal", "smallest DeepFool perturbation "
             "(adversarial active learning, the DAL study's settings)")
