"""Matching mistyped names: case and ``_``/``-`` folded, else the closest few suggested."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def fold(name: str) -> str:
    """``name`` compared loosely: lower case, ``_`` read as ``-``."""
    return name.casefold().replace("_", "-")


def folded_match(name: str, candidates: Iterable[str]) -> str | None:
    """The one candidate equal to ``name`` up to case and ``_``/``-``, else None."""
    matches = [c for c in candidates if fold(c) == fold(name)]
    return matches[0] if len(matches) == 1 else None


def did_you_mean(name: str, candidates: Iterable[str], limit: int = 3) -> str:
    """``" (did you mean 'a' or 'b'?)"`` for the closest candidates, ``""`` when none is close."""
    by_fold = {fold(c): c for c in candidates}
    close = difflib.get_close_matches(fold(name), list(by_fold), n=limit, cutoff=0.6)
    if not close:
        return ""
    quoted = [repr(by_fold[c]) for c in close]
    return " (did you mean " + (" or ".join(quoted) if len(quoted) <= 2
                                 else f"{', '.join(quoted[:-1])} or {quoted[-1]}") + "?)"
