"""Gradient-based query strategies for albench: expected gradient length and BADGE.

The strategies and torch load from :mod:`albench_gradient.egl`, :mod:`~albench_gradient.
egl_study` and :mod:`~albench_gradient.badge` when one is first used."""

import importlib

from albench import hookimpl

_EXPORTS = {
    "Badge": "albench_gradient.badge",
    "gradient_factors": "albench_gradient.badge",
    "kmeans_pp_seeds": "albench_gradient.badge",
    "kmeans_pp_seeds_dense": "albench_gradient.badge",
    "ExpectedGradientLength": "albench_gradient.egl",
    "expected_gradient_lengths": "albench_gradient.egl",
    "label_grad_sq_norms": "albench_gradient.egl",
    "last_layer_egl": "albench_gradient.egl",
    "per_sample_grad_sq_norms": "albench_gradient.egl",
    "StudyEGL": "albench_gradient.egl_study",
    "chunk_mean_grad_sq_norms": "albench_gradient.egl_study",
    "study_egl_scores": "albench_gradient.egl_study",
}
"""Public names, imported from their module on first access (PEP 562)."""
__all__ = ["Badge", "ExpectedGradientLength", "StudyEGL", "chunk_mean_grad_sq_norms",
           "expected_gradient_lengths", "gradient_factors", "kmeans_pp_seeds",
           "kmeans_pp_seeds_dense", "label_grad_sq_norms", "last_layer_egl",
           "per_sample_grad_sq_norms", "study_egl_scores"]


@hookimpl
def albench_register_strategies(register):
    register("egl", "albench_gradient.egl:ExpectedGradientLength",
             "per-example expected gradient length over all parameters "
             "(parameters='last' for the cheap last-layer version)")
    register("egl-study", "albench_gradient.egl_study:StudyEGL",
             "the DAL study's EGL: squared gradient norm of each 100-example chunk's mean "
             "cross-entropy per label, weighted by each example's probabilities")
    register("badge", "albench_gradient.badge:Badge", "k-means++ seeding on last-layer "
             "gradient embeddings (Ash et al. 2020)")


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
