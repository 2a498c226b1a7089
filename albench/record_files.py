"""Run records as text: one JSON file per run, ``<folder>/<suite>/<run_id>.json``.

The form results are committed and reviewed in (the SQLite store stays the working store):
keys sorted, one key per line, lists of numbers on one line, so a diff shows what changed.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from albench.results import DB_NAME, RecordError, RunRecord, check_store_version, parse_record


def suite_folder(suite: str) -> str:
    """A suite's folder name: the name itself where it is file-name safe."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", suite).strip("._") or "_"
    return safe[:100]


def record_text(record: RunRecord) -> str:
    """The record's canonical JSON text (ends with a newline)."""
    return _dump(record.model_dump(mode="json")) + "\n"


def _dump(value: Any, depth: int = 0) -> str:
    pad, inner = " " * depth, " " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(key)}: {_dump(value[key], depth + 1)}"
                 for key in sorted(value)]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [f"{inner}{_dump(item, depth + 1)}" for item in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value, sort_keys=True)


def write_record_files(records: Iterable[RunRecord], folder: str | Path) -> list[Path]:
    """Write each record to ``<folder>/<suite>/<run_id>.json``, replacing an older file of
    the same run; returns the paths written."""
    written = []
    for record in records:
        path = Path(folder) / suite_folder(record.spec.suite) / f"{record.run_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = record_text(record)
        parse_record(text, str(path))  # never write what cannot be read back
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written


class RecordFolder:
    """A read-only folder of JSON record files; reads like a ``ResultStore``."""

    def __init__(self, folder: str | Path):
        self.path = Path(folder)
        if not self.path.is_dir():
            raise FileNotFoundError(f"no folder of run records at {self.path}")
        self.invalid: dict[str, str] = {}  # always empty: an invalid file is refused, not skipped

    def files(self) -> list[Path]:
        return sorted(self.path.glob("*/*.json"))

    def records(self, suite: str | None = None) -> Iterator[RunRecord]:
        """Every record (of one suite), in run-id order; each file is validated and must be
        named after its run id, and no run may appear twice."""
        files = self.files()
        if not files:
            raise FileNotFoundError(f"no results store or run record files "
                                    f"(<suite>/<run_id>.json) in {self.path}")
        records = {}
        for path in files:
            record = parse_record(path.read_text(encoding="utf-8"), str(path))
            if path.stem != record.run_id:
                raise RecordError(f"{path}: holds run {record.run_id}; the file must be named "
                                  f"{record.run_id}.json")
            if path.parent.name != suite_folder(record.spec.suite):
                raise RecordError(f"{path}: a run of suite {record.spec.suite!r} belongs in "
                                  f"{suite_folder(record.spec.suite)}/")
            if record.run_id in records:
                raise RecordError(f"{path}: run {record.run_id} appears twice")
            records[record.run_id] = record
        for run_id in sorted(records):
            if suite is None or records[run_id].spec.suite == suite:
                yield records[run_id]


def read_store(path: str | Path) -> Iterator[RunRecord]:
    """Every record of another results store, opened read-only: a results directory, its
    SQLite file, or a folder of JSON record files (see :class:`RecordFolder`)."""
    path = Path(path)
    if path.is_dir() and not (path / DB_NAME).exists():
        yield from RecordFolder(path).records()
        return
    if path.is_dir():
        path = path / DB_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no results store at {path}")
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        check_store_version(db, path)
        rows = db.execute("SELECT run_id, record FROM runs ORDER BY run_id").fetchall()
    except sqlite3.DatabaseError as exc:
        raise RecordError(f"{path}: not an albench results store ({exc})") from None
    finally:
        db.close()
    for run_id, text in rows:
        yield parse_record(text, f"{path} run {run_id}")
