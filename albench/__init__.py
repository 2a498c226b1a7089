"""albench: a plugin-based benchmark suite for deep active learning."""

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("albench")
"""Decorator that marks a function as an albench hook implementation."""

from albench.api import run  # after hookimpl, which albench.api imports

__all__ = ["__version__", "hookimpl", "run"]
