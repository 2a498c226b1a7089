"""Run records and the results store (SQLite by default).

Each run is one versioned JSON record holding its spec, the plugins and environment it ran
with and every finished round. The store writes a record in one transaction after every
round, so a killed run loses at most the round in progress and resumes at the next one.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_serializer,
    model_validator,
)

from albench.errors import AlbenchError
from albench.spec import RunSpec

SCHEMA_VERSION = 3
"""The run record schema this albench writes; older ones are migrated on load (see
:data:`MIGRATIONS`), newer ones refused."""
DB_NAME = "albench.sqlite"
STORE_VERSION = 1
"""The store's table layout (SQLite ``user_version``; 0 in stores made before it was set)."""


def _round_devices(data: dict) -> dict:
    """Schema 1 -> 2: each round names the device it ran on (``None``: not recorded)."""
    for rnd in _round_dicts(data):
        rnd.setdefault("device", None)
    return data


def _round_settings_and_round_zero(data: dict) -> dict:
    """Schema 2 -> 3: each round's torch ``threads`` and ``determinism`` settings, and the
    run's shared ``round_zero`` key (``None``: not recorded, the run trained its own)."""
    for rnd in _round_dicts(data):
        rnd.setdefault("threads", None)
        rnd.setdefault("determinism", None)
    data.setdefault("round_zero", None)
    return data


def _round_dicts(data: dict) -> list[dict]:
    rounds = data.get("rounds")
    return [rnd for rnd in rounds if isinstance(rnd, dict)] if isinstance(rounds, list) else []


MIGRATIONS = {1: _round_devices, 2: _round_settings_and_round_zero}
"""Record migrations in order: ``MIGRATIONS[n]`` takes a record dict of schema ``n`` to the
fields of schema ``n + 1``. Fields are only added (``setdefault``: a record re-exported by a
later albench holds them already), and ``schema_version`` keeps the schema the record was
written in, so reading and exporting an old record gives back its very text."""


def migrate(data: dict) -> dict:
    """A record dict of any schema up to :data:`SCHEMA_VERSION`, with the current fields."""
    version = data.get("schema_version")
    if type(version) is int and version in MIGRATIONS:  # anything else fails validation
        for step in range(version, SCHEMA_VERSION):
            data = MIGRATIONS[step](data)
    return data


class RecordError(AlbenchError):
    """A stored record that cannot be trusted: invalid, hand-edited or from a newer albench."""


class StoreError(AlbenchError):
    """The results store cannot be opened or read (damaged, not a store, inaccessible)."""


class StoreWriteError(StoreError):
    """The store could not be written (disk full, read-only, locked); nothing was changed."""


class StoreBusyError(AlbenchError):
    """Another live process is working on this run."""


class RoundRecord(BaseModel):
    """One round: train on ``labeled`` examples, test, then (except the last) query."""

    model_config = ConfigDict(extra="forbid")

    round: int = Field(ge=0)
    labeled: int = Field(ge=1)
    accuracy: float = Field(ge=0, le=1)
    val_accuracy: float | None = None
    epochs: int = Field(ge=0)
    queried: list[int] = Field(default_factory=list)
    queried_class_counts: list[int] = Field(default_factory=list)
    train_seconds: float = Field(ge=0)
    query_seconds: float = Field(ge=0)
    device: str | None
    """Where the round ran, as in the environment (``None`` in schema-1 records)."""
    notes: list[str] = Field(default_factory=list)
    """The strategy's remarks on its query (``QueryContext.note``); left out when empty."""
    threads: int | None
    """torch's thread count in the round (``None`` before schema 3)."""
    determinism: dict[str, str] | None
    """Deterministic-kernel settings in force (see :mod:`albench.reproducibility`; ``None``
    before schema 3)."""

    @model_serializer(mode="wrap")
    def _without_empty_notes(self, handler):
        data = handler(self)
        if not data.get("notes"):
            data.pop("notes", None)
        return data


class RoundZeroRecord(BaseModel):
    """A shared round-0 model: what every strategy's run of one seed starts from."""

    model_config = ConfigDict(extra="forbid")

    key: str
    identity: dict
    """The spec fields the key hashes (the run spec without its strategy and query fields)."""
    dataset_revision: str
    labeled: int = Field(ge=1)
    accuracy: float = Field(ge=0, le=1)
    val_accuracy: float | None = None
    epochs: int = Field(ge=0)
    train_seconds: float = Field(ge=0)
    device: str
    threads: int
    determinism: dict[str, str]
    weights_sha256: str
    """SHA-256 of the stored weights (safetensors bytes), checked when they are loaded."""
    created_at: str


class PluginRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    plugin: str
    version: str


class RunRecord(BaseModel):
    """Everything about one run; the unit the store keeps and the reports read."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1, 2, 3] = SCHEMA_VERSION
    run_id: str
    status: Literal["running", "complete", "failed"]
    spec: RunSpec
    plugins: dict[str, PluginRef]
    environment: dict[str, str]
    """The software and device the run started on (a resumed run's rounds name their own
    ``device``)."""
    dataset_revision: str
    initial_labeled_idx: list[int]
    initial_class_counts: list[int]
    rounds: list[RoundRecord] = Field(default_factory=list)
    error: str | None = None
    round_zero: str | None = None
    """The key of the shared round 0 the run started from (see :mod:`albench.round_zero`);
    ``None`` when the run trained its own."""
    started_at: str
    updated_at: str

    @model_validator(mode="after")
    def _consistent(self):
        if self.run_id != self.spec.run_id:
            raise ValueError(f"run_id {self.run_id} does not match its spec "
                             f"(expected {self.spec.run_id}): the spec was edited")
        if len(self.initial_labeled_idx) != self.spec.initial_labeled:
            raise ValueError("initial_labeled_idx does not have spec.initial_labeled entries")
        seen = set(self.initial_labeled_idx)
        if any(i < 0 for i in self.labeled_idx):
            raise ValueError("negative pool indices")
        if len(seen) != len(self.initial_labeled_idx):
            raise ValueError("initial_labeled_idx has duplicates")
        for position, rnd in enumerate(self.rounds):
            if rnd.round != position:
                raise ValueError(f"round {rnd.round} stored at position {position}")
            if rnd.labeled != len(seen):
                raise ValueError(f"round {rnd.round} says {rnd.labeled} labelled, "
                                 f"the queries add up to {len(seen)}")
            if seen.intersection(rnd.queried) or len(set(rnd.queried)) != len(rnd.queried):
                raise ValueError(f"round {rnd.round} queries an index twice")
            if sum(rnd.queried_class_counts) != len(rnd.queried):
                raise ValueError(f"round {rnd.round}: class counts do not sum to the queries")
            seen.update(rnd.queried)
        if len(self.rounds) > self.spec.rounds + 1:
            raise ValueError(f"{len(self.rounds)} rounds stored, the spec has "
                             f"{self.spec.rounds + 1}")
        if self.status == "complete" and len(self.rounds) != self.spec.rounds + 1:
            raise ValueError("marked complete with rounds missing")
        return self

    @property
    def labeled_idx(self) -> list[int]:
        """Initial set plus every query so far, in query order."""
        out = list(self.initial_labeled_idx)
        for rnd in self.rounds:
            out.extend(rnd.queried)
        return out

    @property
    def finished(self) -> bool:
        return self.status == "complete"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_record(text: str, source: str = "record") -> RunRecord:
    """Validate a JSON record; refuse newer schemas and hand edits with a clear message."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"{source}: not valid JSON ({exc})") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise RecordError(f"{source}: written by a newer albench (schema version {version}, "
                          f"this albench reads up to {SCHEMA_VERSION}); upgrade albench")
    try:
        return RunRecord.model_validate(migrate(data) if isinstance(data, dict) else data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}"
                             for e in exc.errors()[:5])
        raise RecordError(f"{source}: invalid run record: {problems}") from None


class ResultStore:
    """Run records in an SQLite database under a results directory.

    Writers claim a run before computing it, so two ``albench run`` processes sharing a
    directory never compute or write the same run twice.
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory).resolve()  # a plugin's os.chdir must not move it
        self.path = self.directory / DB_NAME
        self.invalid: dict[str, str] = {}
        """Run ids of invalid records met by :meth:`records` (skipped), with the reason."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the results directory {self.directory}: "
                             f"{exc.strerror}; choose another --results directory") from None
        with self._connect() as db:
            if not check_store_version(db, self.path) and not _has_table(db, "runs"):
                db.execute(f"PRAGMA user_version = {STORE_VERSION}")  # a new store
            db.execute("""CREATE TABLE IF NOT EXISTS runs (
                run_id TEXT PRIMARY KEY, suite TEXT NOT NULL, strategy TEXT NOT NULL,
                seed INTEGER NOT NULL, status TEXT NOT NULL, schema_version INTEGER NOT NULL,
                record TEXT NOT NULL, updated_at TEXT NOT NULL)""")
            db.execute("""CREATE TABLE IF NOT EXISTS claims (
                run_id TEXT PRIMARY KEY, owner TEXT NOT NULL, seen REAL NOT NULL)""")
            db.execute("""CREATE TABLE IF NOT EXISTS quarantine (
                run_id TEXT NOT NULL, record TEXT NOT NULL, error TEXT NOT NULL,
                moved_at TEXT NOT NULL)""")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction; SQLite's errors become :class:`StoreError` naming the file."""
        try:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(_explain(self.path, exc)) from None
        try:
            db.execute("PRAGMA busy_timeout = 60000")
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                with suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(_explain(self.path, exc)) from None
        finally:
            db.close()

    def save(self, record: RunRecord) -> None:
        """Insert or replace one record, atomically."""
        record.updated_at = now()
        record.schema_version = SCHEMA_VERSION  # its new rounds are of this schema
        self._write(record)

    def _write(self, record: RunRecord) -> None:
        text = record.model_dump_json()
        parse_record(text, f"run {record.run_id}")  # never store what we could not read back
        try:
            self._upsert(record, text)
        except StoreError as exc:
            raise StoreWriteError(f"cannot write run {record.run_id}: {exc}; the previously "
                                  f"stored record is unchanged") from None

    def _upsert(self, record: RunRecord, text: str) -> None:
        with self._connect() as db:
            _upsert(db, record, text)

    def get(self, run_id: str) -> RunRecord | None:
        with self._connect() as db:
            row = db.execute("SELECT record FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        try:
            return parse_record(row[0], f"{self.path} run {run_id}")
        except RecordError as exc:
            raise RecordError(f"{exc}; `albench run --force` recomputes it (the invalid "
                              f"record is kept in the store's quarantine table)") from None

    def records(self, suite: str | None = None) -> Iterator[RunRecord]:
        """Every valid stored record (of one suite), in run-id order.

        Invalid records are skipped and listed in :attr:`invalid`, so one bad record does
        not hide the rest.
        """
        with self._connect() as db:
            rows = db.execute(
                "SELECT run_id, record FROM runs WHERE ? IS NULL OR suite = ? ORDER BY run_id",
                (suite, suite)).fetchall()
        for run_id, text in rows:
            try:
                record = parse_record(text, f"{self.path} run {run_id}")
            except RecordError as exc:
                self.invalid[run_id] = str(exc)
                continue
            yield record

    def quarantine(self, run_id: str, reason: str) -> None:
        """Move run ``run_id``'s stored record aside (kept for inspection, never read)."""
        with self._connect() as db:
            db.execute("INSERT INTO quarantine (run_id, record, error, moved_at) "
                       "SELECT run_id, record, ?, ? FROM runs WHERE run_id = ?",
                       (reason, now(), run_id))
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))

    def claim(self, run_id: str, stale_after: float = 6 * 3600) -> None:
        """Mark ``run_id`` as being computed by this process, unless a live one has it."""
        me = _me()
        with self._connect() as db:
            row = db.execute("SELECT owner, seen FROM claims WHERE run_id = ?",
                             (run_id,)).fetchone()
            if row and row[0] != me and _alive(row[0], row[1], stale_after):
                raise StoreBusyError(f"run {run_id} is being computed by process {row[0]}")
            db.execute("INSERT OR REPLACE INTO claims (run_id, owner, seen) VALUES (?, ?, ?)",
                       (run_id, me, time.time()))

    def claimed_elsewhere(self, run_id: str, stale_after: float = 6 * 3600) -> bool:
        """Whether another live process holds the claim on ``run_id``."""
        me = f"{socket.gethostname()}:{os.getpid()}"
        with self._connect() as db:
            row = db.execute("SELECT owner, seen FROM claims WHERE run_id = ?",
                             (run_id,)).fetchone()
        return bool(row) and row[0] != me and _alive(row[0], row[1], stale_after)

    def merge(self, records: Iterable[RunRecord]) -> MergeReport:
        """Copy runs computed elsewhere into this store, never losing a stored round.

        A run this store lacks is added; one that continues a stored run (same rounds, then
        more) replaces it; a run whose rounds differ from the stored ones (computed twice, on
        different hardware, say) is a conflict and the stored one is kept. All or nothing:
        every record is read and validated first, then all are written in one transaction.
        """
        records = list(records)  # a source that fails to parse fails before any write
        report = MergeReport()
        changed = {}
        for record in records:
            mine = changed.get(record.run_id) or self.get(record.run_id)
            if mine is None:
                report.added.append(record.run_id)
            elif _continues(record, mine) and (len(record.rounds) > len(mine.rounds)
                                               or record.finished and not mine.finished):
                report.extended.append(record.run_id)
            elif _continues(mine, record):
                report.unchanged.append(record.run_id)
                continue
            else:
                report.conflicts.append(record.run_id)
                continue
            changed[record.run_id] = record
        texts = [(record, record.model_dump_json()) for record in changed.values()]
        for record, text in texts:
            parse_record(text, f"run {record.run_id}")  # never store what we cannot read back
        try:
            with self._connect() as db:
                for record, text in texts:
                    _upsert(db, record, text)
        except sqlite3.Error as exc:
            raise StoreWriteError(f"cannot merge into {self.path}: {exc}; nothing was "
                                  f"written") from exc
        return report

    def get_round_zero(self, key: str) -> tuple[RoundZeroRecord, bytes] | None:
        """The shared round 0 stored under ``key``: its record and its weights."""
        with self._connect() as db:
            row = None if not _has_table(db, "round_zero") else db.execute(
                "SELECT record, weights FROM round_zero WHERE key = ?", (key,)).fetchone()
        return None if row is None else (_parse_round_zero(row[0], key, self.path), row[1])

    def save_round_zero(self, record: RoundZeroRecord, weights: bytes) -> None:
        """Insert or replace one shared round 0, atomically."""
        try:
            with self._connect() as db:
                db.execute(_ROUND_ZERO_TABLE)
                db.execute("INSERT OR REPLACE INTO round_zero (key, record, weights, updated_at)"
                           " VALUES (?, ?, ?, ?)",
                           (record.key, record.model_dump_json(), weights, now()))
        except sqlite3.Error as exc:
            raise StoreWriteError(f"cannot write round 0 {record.key} to {self.path}: {exc}; "
                                  f"every previously stored record is unchanged") from exc

    def round_zeros(self) -> Iterator[tuple[RoundZeroRecord, bytes]]:
        """Every stored shared round 0, in key order."""
        with self._connect() as db:
            rows = [] if not _has_table(db, "round_zero") else db.execute(
                "SELECT key, record, weights FROM round_zero ORDER BY key").fetchall()
        for key, text, weights in rows:
            yield _parse_round_zero(text, key, self.path), weights

    def merge_round_zeros(self, items: Iterable[tuple[RoundZeroRecord, bytes]]) -> list[str]:
        """Copy the shared round-0 models this store lacks; returns the keys added.

        One already stored is kept as it is: the runs of this store started from it.
        """
        added = []
        for record, weights in items:
            if self.get_round_zero(record.key) is None:
                self.save_round_zero(record, weights)
                added.append(record.key)
        return added

    def release(self, run_id: str) -> None:
        """Drop this process's claim on ``run_id`` (another process's claim stays)."""
        with self._connect() as db:
            db.execute("DELETE FROM claims WHERE run_id = ? AND owner = ?", (run_id, _me()))


def _upsert(db: sqlite3.Connection, record: RunRecord, text: str) -> None:
    db.execute(
        """INSERT INTO runs (run_id, suite, strategy, seed, status, schema_version,
                             record, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(run_id) DO UPDATE SET status = excluded.status,
             schema_version = excluded.schema_version, record = excluded.record,
             updated_at = excluded.updated_at""",
        (record.run_id, record.spec.suite, record.spec.strategy, record.spec.seed,
         record.status, record.schema_version, text, record.updated_at))


_ROUND_ZERO_TABLE = """CREATE TABLE IF NOT EXISTS round_zero (
    key TEXT PRIMARY KEY, record TEXT NOT NULL, weights BLOB NOT NULL, updated_at TEXT NOT NULL)"""
"""Made with the first shared round 0, so opening a store never changes its file."""


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (name,)).fetchone() is not None


def check_store_version(db: sqlite3.Connection, path: Path) -> int:
    """The store's :data:`STORE_VERSION`; a store of a newer albench is refused."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > STORE_VERSION:
        raise StoreError(f"results store {path}: written by a newer albench (store version "
                         f"{version}, this albench reads up to {STORE_VERSION}); upgrade "
                         f"albench")
    return version


def read_round_zeros(path: str | Path) -> Iterator[tuple[RoundZeroRecord, bytes]]:
    """Every shared round 0 of another results store (none in stores made before them)."""
    path = Path(path)
    if path.is_dir():
        path = path / DB_NAME
        if not path.exists():  # a folder of JSON record files holds no round-0 models
            return
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        check_store_version(db, path)
        rows = [] if not _has_table(db, "round_zero") else db.execute(  # none in old stores
            "SELECT key, record, weights FROM round_zero ORDER BY key").fetchall()
    finally:
        db.close()
    for key, text, weights in rows:
        yield _parse_round_zero(text, key, path), weights


def _parse_round_zero(text: str, key: str, source) -> RoundZeroRecord:
    try:
        record = RoundZeroRecord.model_validate_json(text)
    except ValidationError as exc:
        raise RecordError(f"{source} round 0 {key}: invalid record: {exc.errors()[0]['msg']}"
                          ) from None
    if record.key != key:
        raise RecordError(f"{source} round 0 {key}: the record says key {record.key}")
    return record


@dataclass
class MergeReport:
    """What :meth:`ResultStore.merge` did, by run id."""

    added: list[str] = field(default_factory=list)
    extended: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def _explain(path: Path, exc: sqlite3.Error) -> str:
    """SQLite's error about ``path`` and what to do about it."""
    text = str(exc)
    if path.is_dir():
        advice = "it is a directory; remove it or choose another --results directory"
    elif "not a database" in text or "malformed" in text:
        advice = ("the file is damaged or not an albench store; move it aside (and restore a "
                  "backup, or merge its readable runs into a new store)")
    elif "readonly" in text or "unable to open" in text:
        advice = "check that the file and its directory are writable (permissions, chattr)"
    elif "full" in text:
        advice = "free some disk space"
    else:
        advice = "check the file and its disk"
    return f"results store {path}: {text}; {advice}"


def _continues(longer: RunRecord, shorter: RunRecord) -> bool:
    """``longer`` starts like ``shorter`` and holds every round of it unchanged."""
    return (longer.initial_labeled_idx == shorter.initial_labeled_idx
            and longer.rounds[:len(shorter.rounds)] == shorter.rounds)


def _me() -> str:
    """This process as a claim's owner: host, pid and start time."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_started(pid)}"


def _started(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot, Linux), or '' if unknown."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _alive(owner: str, seen: float | None, stale_after: float) -> bool:
    """Whether a claim's owner (``host:pid[:start]``) still runs; a reused pid does not."""
    host, pid, *start = owner.split(":")
    if host == socket.gethostname():
        try:
            os.kill(int(pid), 0)
        except (ProcessLookupError, ValueError):
            return False
        except PermissionError:
            return True
        return not (start and start[0] and _started(int(pid)) != start[0])
    return seen is not None and time.time() - seen < stale_after
