"""Adversarial active learning for albench: DFAL, ranking examples by DeepFool distance.

The strategy and torch load from :mod:`albench_adversarial.dfal` when it is first used."""

import importlib

from albench import hookimpl

_EXPORTS = {
    "DeepFoolResult": "albench_adversarial.dfal",
    "Dfal": "albench_adversarial.dfal",
    "deepfool": "albench_adversarial.dfal",
    "input_bounds": "albench_adversarial.dfal",
    "rival_classes": "albench_adversarial.dfal",
}
"""Public names, imported from their module on first access (PEP 562)."""
__all__ = ["DeepFoolResult", "Dfal", "deepfool", "input_bounds", "rival_classes"]


@hookimpl
def albench_register_strategies(register):
    register("dfal", "albench_adversarial.dfal:Dfal", "smallest DeepFool perturbation "
             "(adversarial active learning, the DAL study's settings)")


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
