"""albench: a plugin-based benchmark suite for deep active learning."""

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("albench")
"""Decorator that marks a function as an albench hook implementation."""

from albench.api import run  # noqa: E402 -- after hookimpl, which albench.api uses

__all__ = ["__version__", "hookimpl", "run"]
