"""Adversarial active learning for albench: DFAL, ranking examples by DeepFool distance."""

from albench import hookimpl
from albench_adversarial.dfal import DeepFoolResult, Dfal, deepfool, input_bounds, rival_classes

__all__ = ["DeepFoolResult", "Dfal", "deepfool", "input_bounds", "rival_classes"]


@hookimpl
def albench_register_strategies(register):
    register("dfal", Dfal, "smallest DeepFool perturbation (adversarial active learning, "
             "the DAL study's settings)")
