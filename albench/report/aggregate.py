"""Run records -> tidy tables, split into comparable groups.

Runs of one setting (dataset × model × batch size) are comparable when everything but the
strategy, its options and the seed is the same: suite version, dataset revision and the rest
of the protocol. Each setting is reported for one protocol, its *main* one; runs made under
any other protocol are listed, never averaged in.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from albench.report.stats import label_entropy
from albench.results import RunRecord
from albench.spec import identity

# Spec fields that may differ between runs that are compared with each other.
VARYING = ("strategy", "strategy_options", "seed")


@dataclass(frozen=True)
class Protocol:
    """The comparability key of a run: its spec without the varying fields, plus the data."""

    id: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Board:
    """Everything a leaderboard shows about one suite."""

    suite: str
    rounds: pd.DataFrame
    """Tidy: one row per round of every complete run of each setting's main protocol."""
    runs: pd.DataFrame
    """One row per record: status, rounds done, and whether it is in ``rounds``."""
    protocols: dict[str, Protocol]
    main: dict[str, str]
    """Setting -> id of the protocol it is reported under."""
    plugins: dict[str, str]
    """Strategy label -> the plugin that registered it (of the aggregated runs)."""
    versions: dict[str, str]
    """Strategy label -> the version(s) of that plugin the aggregated runs were made with."""
    options: dict[str, dict[str, Any]]
    """Strategy label -> the strategy options its runs were given (``{}``: the defaults)."""

    @property
    def strategies(self) -> list[str]:
        return sorted(self.rounds["strategy"].unique())

    @property
    def settings(self) -> list[str]:
        return sorted(self.main)

    def differences(self, protocol_id: str) -> list[str]:
        """``field: value here vs value in the main protocol``, for every field that differs."""
        other = self.protocols[protocol_id].fields
        setting = self.runs.loc[self.runs["protocol"] == protocol_id, "setting"].iloc[0]
        main = self.protocols[self.main[setting]].fields
        return [f"{key}: {other.get(key)!r} vs {main.get(key)!r}"
                for key in sorted(set(other) | set(main)) if other.get(key) != main.get(key)]


def protocol_of(record: RunRecord) -> Protocol:
    """The fields that must agree for two runs to be compared, flattened to ``a.b`` keys
    (late spec fields at their defaults left out, as in run ids)."""
    spec = {k: v for k, v in identity(record.spec).items() if k not in VARYING}
    fields = dict(_flatten(spec))
    fields["dataset_revision"] = record.dataset_revision
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return Protocol(hashlib.sha256(canonical.encode()).hexdigest()[:12], fields)


def _flatten(value: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, item in value.items():
        if isinstance(item, dict) and item:
            yield from _flatten(item, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", item


def strategy_labels(records: list[RunRecord]) -> dict[str, str]:
    """Run id -> strategy label: the name, plus the options where one name has several."""
    options = defaultdict(set)
    for record in records:
        options[record.spec.strategy].add(_options_text(record))
    return {r.run_id: r.spec.strategy if len(options[r.spec.strategy]) == 1
            else f"{r.spec.strategy} {_options_text(r)}" for r in records}


def _options_text(record: RunRecord) -> str:
    return json.dumps(record.spec.strategy_options, sort_keys=True, separators=(",", ":"))


def build_board(suite: str, records: Iterable[RunRecord]) -> Board:
    """Group one suite's records and tabulate the complete runs of each main protocol."""
    records = sorted(records, key=lambda r: r.run_id)
    if any(r.spec.suite != suite for r in records):
        raise ValueError(f"build_board({suite!r}) was given records of other suites")
    protocols = {}
    rows = []
    for record in records:
        protocol = protocol_of(record)
        protocols[protocol.id] = protocol
        rows.append({
            "setting": record.spec.setting, "seed": record.spec.seed,
            "run_id": record.run_id, "status": record.status,
            "rounds_done": len(record.rounds), "rounds_total": record.spec.rounds + 1,
            "protocol": protocol.id, "suite_version": record.spec.suite_version,
            "error": record.error or "", "shared_round_zero": record.round_zero is not None,
        })
    columns = ["setting", "seed", "run_id", "status", "rounds_done", "rounds_total",
               "protocol", "suite_version", "error", "shared_round_zero"]
    runs = pd.DataFrame(rows, columns=columns)
    main = _main_protocols(runs)
    runs["comparable"] = runs["protocol"] == runs["setting"].map(main)
    comparable = set(runs.loc[runs["comparable"], "run_id"])
    labels = {**strategy_labels([r for r in records if r.run_id in comparable]),
              **strategy_labels([r for r in records if r.run_id not in comparable])}
    runs.insert(1, "strategy", runs["run_id"].map(labels))
    runs = runs.sort_values(["setting", "strategy", "seed", "run_id"], ignore_index=True)
    chosen = set(runs.loc[runs["comparable"] & (runs["status"] == "complete"), "run_id"])
    tidy = rounds_table([r for r in records if r.run_id in chosen], labels)
    used = [r for r in records if r.run_id in chosen]
    plugins = {labels[r.run_id]: r.plugins["strategy"].plugin for r in used}
    versions = defaultdict(set)
    for record in used:
        versions[labels[record.run_id]].add(record.plugins["strategy"].version)
    options = {labels[r.run_id]: dict(r.spec.strategy_options) for r in used}
    return Board(suite, tidy, runs, protocols, main, plugins,
                 {label: ", ".join(sorted(v)) for label, v in versions.items()}, options)


def _main_protocols(runs: pd.DataFrame) -> dict[str, str]:
    """Per setting, the protocol to report: has complete runs, newest suite version, most
    complete runs, then the smallest id (so the choice never depends on record order)."""
    main = {}
    for setting, group in runs.groupby("setting", sort=True):
        candidates = []
        for protocol, runs_of in group.groupby("protocol", sort=True):
            complete = int((runs_of["status"] == "complete").sum())
            candidates.append((complete == 0, -int(runs_of["suite_version"].iloc[0]),
                               -complete, protocol))
        main[setting] = min(candidates)[3]
    return main


ROUND_COLUMNS = ["setting", "strategy", "seed", "run_id", "round", "labeled", "accuracy",
                 "train_seconds", "query_seconds", "device", "label_entropy", "max_entropy",
                 "queried_counts"]


def rounds_table(records: list[RunRecord], labels: dict[str, str] | None = None
                 ) -> pd.DataFrame:
    """One row per round: accuracy, timings, device and the label entropy of the queries so
    far (a round stored without its device, from schema 1, ran where its run started; see
    ``one_label_per_machine``).

    ``queried_counts`` (a tuple per row) is the class histogram of every label queried
    before the round was trained, i.e. the labelled set minus the random initial set.
    """
    rows = []
    for record in records:
        num_classes = len(record.initial_class_counts)
        counts = np.zeros((len(record.rounds), num_classes), dtype=np.int64)
        for position, rnd in enumerate(record.rounds[:-1]):
            if rnd.queried_class_counts:
                counts[position + 1] = rnd.queried_class_counts
        counts = counts.cumsum(axis=0)
        entropies = label_entropy(counts)
        for rnd, histogram, entropy in zip(record.rounds, counts, entropies):
            rows.append({
                "setting": record.spec.setting,
                "strategy": (labels or {}).get(record.run_id, record.spec.strategy),
                "seed": record.spec.seed, "run_id": record.run_id, "round": rnd.round,
                "labeled": rnd.labeled, "accuracy": rnd.accuracy,
                "train_seconds": rnd.train_seconds, "query_seconds": rnd.query_seconds,
                "device": rnd.device or record.environment.get("device", "unknown"),
                "label_entropy": float(entropy), "max_entropy": float(np.log(num_classes)),
                "queried_counts": tuple(int(c) for c in histogram),
            })
    table = pd.DataFrame(rows, columns=ROUND_COLUMNS)
    table["device"] = one_label_per_machine(table["device"])
    return table.sort_values(["setting", "strategy", "seed", "round"], ignore_index=True)


def one_label_per_machine(devices: pd.Series) -> pd.Series:
    """Bare device labels (``cpu``, from records that did not name the hardware) given the
    hardware name of the only named device of that kind among ``devices``, if there is one:
    ``cpu`` and ``cpu (AMD EPYC)`` in one table are the same machine."""
    named = defaultdict(set)
    for label in devices.unique():
        kind, _, hardware = label.partition(" (")
        if hardware:
            named[kind].add(label)
    bare = {kind: next(iter(labels)) for kind, labels in named.items() if len(labels) == 1}
    return devices.map(lambda label: bare.get(label, label))


def csv_table(rounds: pd.DataFrame) -> pd.DataFrame:
    """The tidy table with the class histogram as space-separated counts, for CSV export."""
    out = rounds.copy()
    out["queried_counts"] = out["queried_counts"].map(lambda c: " ".join(map(str, c)))
    return out
