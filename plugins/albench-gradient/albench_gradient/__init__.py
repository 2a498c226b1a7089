"""Gradient-based query strategies for albench: expected gradient length and BADGE."""

from albench import hookimpl
from albench_gradient.badge import Badge, gradient_factors, kmeans_pp_seeds, kmeans_pp_seeds_dense
from albench_gradient.egl import (
    ExpectedGradientLength,
    expected_gradient_lengths,
    label_grad_sq_norms,
    last_layer_egl,
    per_sample_grad_sq_norms,
)

__all__ = ["Badge", "ExpectedGradientLength", "expected_gradient_lengths", "gradient_factors",
           "kmeans_pp_seeds", "kmeans_pp_seeds_dense", "label_grad_sq_norms", "last_layer_egl",
           "per_sample_grad_sq_norms"]


@hookimpl
def albench_register_strategies(register):
    register("egl", ExpectedGradientLength,
             "expected gradient length over all parameters (the seed's EGL; "
             "parameters='last' for the cheap last-layer version)")
    register("badge", Badge, "k-means++ seeding on last-layer gradient embeddings "
             "(Ash et al. 2020)")
