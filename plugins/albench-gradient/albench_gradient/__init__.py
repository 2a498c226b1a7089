"""Gradient-based query strategies for albench: expected gradient length and BADGE.

The strategies and torch load from :mod:`albench_gradient.egl`, :mod:`~albench_gradient.
egl_study` and :mod:`~albench_gradient.badge` when one is first used."""

from albench import hookimpl


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
