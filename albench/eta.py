"""Time left, estimated from what rounds of each strategy cost in runs already stored.

A query takes 0.000 s for random sampling and minutes for DFAL, so counting rounds misleads:
each round left is weighted by its strategy's measured seconds per round (training plus
query; a strategy not yet run in a setting is scaled from the settings that ran it), and the
total is scaled by how this session's rounds compared with their estimates.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable

from albench.results import RunRecord
from albench.spec import RunSpec


class RoundCosts:
    """Mean seconds per round of each (setting, strategy), and of each setting, as stored."""

    def __init__(self, records: Iterable[RunRecord]):
        by_strategy, by_setting = defaultdict(list), defaultdict(list)
        for record in records:
            for rnd in record.rounds:
                seconds = rnd.train_seconds + rnd.query_seconds
                by_strategy[record.spec.setting, record.spec.strategy].append(seconds)
                by_setting[record.spec.setting].append(seconds)
        self.per_strategy = {key: sum(v) / len(v) for key, v in by_strategy.items()}
        self.per_setting = {key: sum(v) / len(v) for key, v in by_setting.items()}

    def estimate(self, spec: RunSpec) -> float | None:
        """Seconds one round of ``spec`` should take: its strategy's mean in its setting; for a
        strategy not run there yet, its mean in the other settings that ran it, each scaled by
        the two settings' ratio over the strategies both ran (averaged); else the setting's
        mean."""
        own = self.per_strategy.get((spec.setting, spec.strategy))
        if own is not None:
            return own
        scaled = [seconds * ratio for (setting, strategy), seconds in self.per_strategy.items()
                  if strategy == spec.strategy
                  and (ratio := self._ratio(spec.setting, setting)) is not None]
        if scaled:
            return sum(scaled) / len(scaled)
        return self.per_setting.get(spec.setting)

    def _ratio(self, setting: str, other: str) -> float | None:
        """What a round costs in ``setting`` over ``other``: the median, over the strategies
        both ran, of each one's ratio (so that one whose cost grows otherwise with the
        setting, such as an autoencoder trained on the pool, does not set it for all)."""
        ratios = [seconds / then for (s, strategy), seconds in self.per_strategy.items()
                  if s == setting and (then := self.per_strategy.get((other, strategy)))]
        return statistics.median(ratios) if ratios else None


class Eta:
    """Seconds left for rounds of runs whose per-round estimates may be unknown (None)."""

    def __init__(self, estimates: dict[str, float | None]):
        self.estimates = estimates
        self.estimated_done = 0.0
        self.rounds_done = 0

    def round_done(self, run_id: str) -> None:
        """Count one round of ``run_id`` finished in this session."""
        self.rounds_done += 1
        self.estimated_done += self.estimates.get(run_id) or 0.0

    def seconds_left(self, rounds_left: dict[str, int], elapsed: float) -> float | None:
        """Estimated seconds for ``rounds_left`` (by run id) after ``elapsed`` seconds of this
        session (None: no basis)."""
        known = [e for e in self.estimates.values() if e is not None]
        per_round = elapsed / self.rounds_done if self.rounds_done else None
        fallback = sum(known) / len(known) if known else per_round
        if fallback is None:
            return None
        left = sum(n * (self.estimates.get(run_id) or fallback)
                   for run_id, n in rounds_left.items())
        if self.estimated_done > 0:
            left *= elapsed / self.estimated_done  # this machine and load, against the store
        return left


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
