"""Conformance checks for plugin authors, in the manner of scikit-learn's ``check_estimator``.

Run ``check_strategy(factory)`` in your plugin's tests; each check raises ``AssertionError``
with a message naming what broke. ``toy_context`` builds a small real query context.
"""

from albench.testing.checks import check_strategy, toy_context, toy_dataset

__all__ = ["check_strategy", "toy_context", "toy_dataset"]
