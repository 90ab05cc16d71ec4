"""The Parquet data lake and its ingestion ledger.

Layout under the lake root::

    _ledger.sqlite     ingested_files (one row per ingested file, by content checksum, in order),
                       quarantined_files, and parts (the live part files of every table)
    _lake.lock         what writers flock(2), to take turns
    <table>/part-<checksum12>-<uuid8>.parquet    live parts (briefly also dead or temp files)

Invariant: across the live parts of a table each key (``TABLE_KEYS``) appears at most once, so
a plain Parquet reader of ``<table>/*.parquet`` sees what ``read_table`` returns (except while a
commit runs, and after a crash until the next write: see below).

Overlap rule (merge by column): for each of its keys a file sets exactly the columns it carries,
nulls included; a column it does not carry keeps the value of the last file that carried it.

Commit protocol for a frame P, under the lock:

1. Find the live parts E sharing keys with P: skip parts whose date span misses P's, hash the
   keys of the rest (64-bit, matched by a hash table) and confirm the candidates by an exact join.
2. Write P' (P plus the columns only E carries, for the keys they share) and, for each touched
   E, E' = E without those keys (no file if nothing is left): each to a hidden temp name, fsynced,
   renamed to a fresh name. A commit that overlaps nothing writes P' alone.
3. One SQLite transaction inserts the ledger row, adds the new parts and drops the touched ones
   from ``parts``. E' keeps E's place in commit order (``parts.seq``); P' goes last.
4. Delete the dead files.

Crash story: before step 3 there is no ledger row and the old parts are still live; the new files
are orphans, and a rerun (the checksum is not in the ledger) commits afresh. After step 3 the
commit stands and dead files may linger. ``read_table`` reads live parts only, and the garbage
collection opening every outermost ``writing()`` (and an upgrade on open) deletes whatever in a
table folder is not a live part (orphans, dead parts, ``*.tmp``).

Locking: an exclusive flock on ``_lake.lock``, re-entrant within a process (threads take turns),
waiting up to ``LOCK_TIMEOUT_S`` before TimeoutError. ``commit`` takes it itself; ``writing()``
holds it across commits. Readers take none: one that loses a part to a commit rereads the list.

Migration: before ``parts`` existed, each ingested file had one part (``ingested_files.part``,
which now names the part a commit wrote, perhaps since compacted away), keys could repeat and
reads were whole-row last-wins. On open, under the lock, each table is rewritten to the
compacted form of exactly that answer, in the transaction that creates ``parts``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ml.data.filelock import lock_for
from ml.data.keyed import (
    DATE_KEYS,
    check_unique,
    fill,
    isin,
    key_hashes,
    last_wins,
    prepared,
)
from ml.data.ledger import PARTS_SCHEMA, SCHEMA, has_table, insert, missing_columns
from ml.schema import DATE, ITEM_ID, STORE_ID

TABLE_KEYS = {
    "sales": [STORE_ID, ITEM_ID, DATE],
    "prices": [STORE_ID, ITEM_ID, DATE],
    "calendar": [DATE],
    "products": [ITEM_ID],
    "sales_monthly": [STORE_ID, ITEM_ID, "month_start"],
}


@dataclass(frozen=True)
class LedgerEntry:
    checksum: str
    source: str
    kind: str
    table: str
    rows: int
    rows_in: int = 0
    rows_rejected: int = 0
    rejected_by_code: dict[str, int] = field(default_factory=dict)
    rejected_path: str | None = None


@dataclass(frozen=True)
class _Part:
    path: str  # relative to the lake root
    seq: int | None  # place in commit order; None until the commit's ledger row exists
    rows: int
    first_date: str | None
    last_date: str | None


class Lake:
    """A local Parquet lake with an SQLite ledger keyed by file checksum."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = lock_for(self.root / "_lake.lock")
        if not self._ready():
            with self._lock.hold():
                self._set_up()
                self._collect_garbage()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.root / "_ledger.sqlite", timeout=30, isolation_level=None)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with contextlib.closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with contextlib.closing(self._connect()) as db:
            return db.execute(sql, params).fetchall()

    def _ready(self) -> bool:
        with contextlib.closing(self._connect()) as db:
            return has_table(db, "parts") and not missing_columns(db)

    def _set_up(self) -> None:
        """Create or upgrade the ledger; compact a lake from before the parts table."""
        dead: list[Path] = []
        with self._transaction() as db:
            for statement in SCHEMA:
                db.execute(statement)
            for table, column, declaration in missing_columns(db):
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            if not has_table(db, "parts"):
                for statement in PARTS_SCHEMA:
                    db.execute(statement)
                dead = self._migrate(db)
        self._delete(dead)

    def _migrate(self, db: sqlite3.Connection) -> list[Path]:
        """Register the old one-part-per-file layout, compacted; return the files it retires."""
        sql = "SELECT seq, checksum, table_name, part FROM ingested_files ORDER BY seq"
        old = db.execute(sql).fetchall()
        dead: list[Path] = []
        for table in dict.fromkeys(row[2] for row in old):
            files = [(seq, sha, self.root / part) for seq, sha, t, part in old if t == table]
            keys = [_read_part(path, TABLE_KEYS.get(table, [])) for *_, path in files]
            keep = last_wins(keys)
            for (seq, sha, path), key_frame, mask in zip(files, keys, keep, strict=True):
                if mask.all():
                    relative = path.relative_to(self.root).as_posix()
                    span = _date_span(key_frame, DATE_KEYS)
                    _insert_parts(db, table, [_Part(relative, seq, len(mask), *span)])
                    continue
                dead.append(path)
                if mask.any():
                    rest = pq.read_table(path).filter(pa.array(mask))
                    _insert_parts(db, table, [self._write(table, sha, rest, seq)])
        return dead

    def has(self, checksum: str) -> bool:
        return bool(self._query("SELECT 1 FROM ingested_files WHERE checksum = ?", (checksum,)))

    def ingested_checksums(self) -> set[str]:
        return {r[0] for r in self._query("SELECT checksum FROM ingested_files")}

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the exclusive write lock; the outermost holder first collects garbage."""
        with self._lock.hold() as outermost:
            if outermost:
                self._collect_garbage()
            yield

    def _collect_garbage(self) -> None:
        live = {self.root / r[0] for r in self._query("SELECT path FROM parts")}
        tables = set(TABLE_KEYS) | {r[0] for r in self._query("SELECT table_name FROM parts")}
        for table in sorted(tables):
            folder = self.root / table
            if folder.is_dir():
                self._delete([p for p in folder.iterdir() if p.is_file() and p not in live])

    def commit(self, entry: LedgerEntry, frame: pd.DataFrame) -> None:
        """Merge the file's rows into the table (see the module docstring); once per checksum."""
        if entry.table not in TABLE_KEYS:
            raise ValueError(f"unknown lake table {entry.table!r}; expected one of {[*TABLE_KEYS]}")
        keys = TABLE_KEYS[entry.table]
        frame = prepared(frame, keys)
        hashes = key_hashes(frame, keys)
        check_unique(frame, keys, hashes)
        with self.writing():
            if self.has(entry.checksum):
                return
            new, dead = self._write_commit(entry, frame, hashes)
            self._swap(entry, frame, new, dead)
            self._delete([self.root / part.path for part in dead])

    def _write_commit(
        self, entry: LedgerEntry, frame: pd.DataFrame, hashes: np.ndarray
    ) -> tuple[list[_Part], list[_Part]]:
        """Write P' and every E'; return the new parts and the parts they replace."""
        new, dead, carried = [], [], []
        for part in self._candidates(entry.table, frame) if len(frame) else []:
            mine, theirs = self._overlap(entry.table, part, frame, hashes)
            if not len(mine):
                continue
            data = pq.read_table(self.root / part.path)
            extra = [c for c in data.column_names if c not in frame.columns]
            carried.append(data.select(extra).take(theirs).to_pandas().set_axis(mine))
            keep = np.ones(data.num_rows, dtype=bool)
            keep[theirs] = False
            if keep.any():
                new.append(self._write(entry.table, entry.checksum, data.filter(keep), part.seq))
            dead.append(part)
        if len(frame):
            merged = fill(frame, carried)
            data = pa.Table.from_pandas(merged, preserve_index=False)
            new.append(self._write(entry.table, entry.checksum, data, None))
        return new, dead

    def _candidates(self, table: str, frame: pd.DataFrame) -> list[_Part]:
        """Live parts that may share keys with the frame (by date span, where there is one)."""
        date_key = _date_key(table)
        first, last = _date_span(frame, [date_key]) if date_key else (None, None)
        return [p for p in self._live(table) if _spans_meet(p, first, last)]

    def _overlap(
        self, table: str, part: _Part, frame: pd.DataFrame, hashes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row positions in the frame and in the part of the keys they share (exact)."""
        keys, date_key = TABLE_KEYS[table], _date_key(table)
        theirs = prepared(_read_part(self.root / part.path, keys), keys)
        rows = np.arange(len(theirs))
        if date_key is not None:
            dates, ours = theirs[date_key].to_numpy(), frame[date_key].to_numpy()
            rows = rows[(dates >= ours.min()) & (dates <= ours.max())]
        their_hashes = key_hashes(theirs.iloc[rows], keys)
        hit = isin(their_hashes, hashes)  # candidates only: a 64-bit hash may collide
        rows, mine = rows[hit], np.flatnonzero(isin(hashes, their_hashes[hit]))
        pairs = (
            frame.iloc[mine][keys]
            .assign(_mine=mine)
            .merge(theirs.iloc[rows][keys].assign(_theirs=rows), on=keys)
        )
        return pairs["_mine"].to_numpy(), pairs["_theirs"].to_numpy()

    def _write(self, table: str, checksum: str, data: pa.Table, seq: int | None) -> _Part:
        """Write a part under a fresh name: temp file, fsync, rename, fsync the folder."""
        folder = self.root / table
        folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{checksum[:12]}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = folder / f".{name}.tmp"
        pq.write_table(data, tmp)
        _fsync(tmp)
        os.replace(tmp, folder / name)
        _fsync(folder)  # the rename must be durable before the ledger names the file
        date_key = _date_key(table)
        dates = data.select([date_key]).to_pandas() if date_key else pd.DataFrame()
        span = _date_span(dates, [date_key]) if date_key else (None, None)
        return _Part(f"{table}/{name}", seq, data.num_rows, *span)

    def _swap(
        self, entry: LedgerEntry, frame: pd.DataFrame, new: list[_Part], dead: list[_Part]
    ) -> None:
        """The commit point: the ledger row and the part swap in one transaction."""
        row = {k: v for k, v in vars(entry).items() if k != "table"} | {"table_name": entry.table}
        row["rejected_by_code"] = json.dumps(entry.rejected_by_code, sort_keys=True)
        row["part"] = next((p.path for p in new if p.seq is None), "")
        row["first_date"], row["last_date"] = _date_span(frame)
        with self._transaction() as db:
            seq = insert(db, "ingested_files", row | {"ingested_at": _now()})
            db.executemany("DELETE FROM parts WHERE path = ?", [(p.path,) for p in dead])
            _insert_parts(db, entry.table, new, seq)

    def _delete(self, paths: list[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    def record_quarantine(
        self,
        checksum: str,
        source: str,
        code: str,
        message: str,
        details: dict,
        rows_in: int = 0,
        rejected_by_code: dict[str, int] | None = None,
    ) -> None:
        row = dict(checksum=checksum, source=source, code=code, message=message, rows_in=rows_in)
        row["details"] = json.dumps(details, default=str)
        row["rejected_by_code"] = json.dumps(rejected_by_code or {}, sort_keys=True)
        with self._transaction() as db:
            insert(db, "quarantined_files", row | {"quarantined_at": _now()})

    def ledger(self) -> pd.DataFrame:
        return self._frame("SELECT * FROM ingested_files ORDER BY seq")

    def quarantine_log(self) -> pd.DataFrame:
        return self._frame("SELECT * FROM quarantined_files")

    def _frame(self, sql: str) -> pd.DataFrame:
        with contextlib.closing(self._connect()) as db:
            return pd.read_sql_query(sql, db)

    def _live(self, table: str) -> list[_Part]:
        sql = "SELECT path, seq, rows, first_date, last_date FROM parts WHERE table_name = ?"
        return [_Part(*row) for row in self._query(sql + " ORDER BY seq, path", (table,))]

    def part_paths(self, table: str) -> list[Path]:
        """The live part files of a table, in commit order."""
        return [self.root / part.path for part in self._live(table)]

    def table_rows(self, table: str) -> int:
        """Rows of a table as readers see it (keys are unique across live parts)."""
        return sum(part.rows for part in self._live(table))

    def read_table(self, table: str, columns: list[str] | None = None) -> pd.DataFrame | None:
        """All committed rows of a table (columns a part lacks read as missing values)."""
        for attempt in range(3):
            try:
                frames = [_read_part(path, columns) for path in self.part_paths(table)]
                break
            except FileNotFoundError:  # a concurrent commit retired a part: reread the list
                if attempt == 2:
                    raise
        if sum(len(f) for f in frames) == 0:
            return None
        out = pd.concat(frames, ignore_index=True)
        return out if columns is None else out[[c for c in columns if c in out.columns]]


def _insert_parts(
    db: sqlite3.Connection, table: str, parts: list[_Part], seq: int | None = None
) -> None:
    rows = [
        (p.path, table, seq if p.seq is None else p.seq, p.rows, p.first_date, p.last_date)
        for p in parts
    ]
    db.executemany("INSERT INTO parts VALUES (?, ?, ?, ?, ?, ?)", rows)


def _date_key(table: str) -> str | None:
    return next((k for k in TABLE_KEYS.get(table, []) if k in DATE_KEYS), None)


def _spans_meet(part: _Part, first: str | None, last: str | None) -> bool:
    """Whether a part's date span meets [first, last] (True when either is unknown)."""
    if None in (part.first_date, part.last_date, first, last):
        return True
    return part.first_date <= last and first <= part.last_date


def _read_part(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """One part as pandas, projected to the requested columns it has."""
    with pq.ParquetFile(path) as part:
        if columns is None:
            return part.read().to_pandas()
        present = [c for c in columns if c in part.schema_arrow.names]
        if not present:
            return pd.DataFrame(index=pd.RangeIndex(part.metadata.num_rows))
        return part.read(columns=present).to_pandas()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _date_span(
    frame: pd.DataFrame, columns: tuple[str, ...] | list[str] = DATE_KEYS
) -> tuple[str | None, str | None]:
    for column in columns:
        if column in frame and len(frame):
            return str(frame[column].min().date()), str(frame[column].max().date())
    return None, None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
