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
from albench_gradient.egl_study import StudyEGL, chunk_mean_grad_sq_norms, study_egl_scores

__all__ = ["Badge", "ExpectedGradientLength", "StudyEGL", "chunk_mean_grad_sq_norms",
           "expected_gradient_lengths", "gradient_factors", "kmeans_pp_seeds",
           "kmeans_pp_seeds_dense", "label_grad_sq_norms", "last_layer_egl",
           "per_sample_grad_sq_norms", "study_egl_scores"]


@hookimpl
def albench_register_strategies(register):
    register("egl", ExpectedGradientLength,
             "per-example expected gradient length over all parameters "
             "(parameters='last' for the cheap last-layer version)")
    register("egl-study", StudyEGL,
             "the DAL study's EGL: squared gradient norm of each 100-example chunk's mean "
             "cross-entropy per label, weighted by each example's probabilities")
    register("badge", Badge, "k-means++ seeding on last-layer gradient embeddings "
             "(Ash et al. 2020)")
