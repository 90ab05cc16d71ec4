"""The Parquet data lake and its ingestion ledger.

Layout under the lake root::

    _ledger.sqlite                     which files were ingested (by content checksum), in order
    <table>/part-<checksum>.parquet    the normalised rows of one ingested file

The ledger is the commit log: a part counts only once its ledger row exists. A part is written
to a temporary name and renamed into place (atomic on one filesystem) before the ledger row is
inserted, so a crash at any point leaves either nothing visible or a complete file, and a rerun
(which finds no ledger row) rewrites the same part name and commits it. Nothing is ever appended
to an existing part, so no partial rows can appear.

Overlap rule: when two files carry the same key (store, item, date), the row from the file
ingested last wins. A newer file is taken as a correction of an older one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ml.schema import DATE, ITEM_ID, STORE_ID

TABLE_KEYS = {
    "sales": [STORE_ID, ITEM_ID, DATE],
    "prices": [STORE_ID, ITEM_ID, DATE],
    "calendar": [DATE],
    "products": [ITEM_ID],
    "sales_monthly": [STORE_ID, ITEM_ID, "month_start"],
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ingested_files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    checksum TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    table_name TEXT NOT NULL,
    part TEXT NOT NULL,
    rows INTEGER NOT NULL,
    first_date TEXT,
    last_date TEXT,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantined_files (
    checksum TEXT NOT NULL,
    source TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    details TEXT NOT NULL,
    quarantined_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class LedgerEntry:
    checksum: str
    source: str
    kind: str
    table: str
    rows: int


class Lake:
    """A local Parquet lake with an SQLite ledger keyed by file checksum."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.root / "_ledger.sqlite", timeout=30, isolation_level=None)

    def has(self, checksum: str) -> bool:
        with self._connect() as db:
            row = db.execute("SELECT 1 FROM ingested_files WHERE checksum = ?", (checksum,))
            return row.fetchone() is not None

    def ingested_checksums(self) -> set[str]:
        with self._connect() as db:
            return {r[0] for r in db.execute("SELECT checksum FROM ingested_files")}

    def commit(self, entry: LedgerEntry, frame: pd.DataFrame) -> None:
        """Write the file's rows as one part, then record it in the ledger."""
        part = self._write_part(entry.table, entry.checksum, frame)
        first, last = _date_span(frame)
        with self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO ingested_files (checksum, source, kind, table_name, part, "
                "rows, first_date, last_date, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.checksum,
                    entry.source,
                    entry.kind,
                    entry.table,
                    part,
                    entry.rows,
                    first,
                    last,
                    _now(),
                ),
            )

    def record_quarantine(
        self, checksum: str, source: str, code: str, message: str, details: dict
    ) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO quarantined_files VALUES (?, ?, ?, ?, ?, ?)",
                (checksum, source, code, message, json.dumps(details, default=str), _now()),
            )

    def _write_part(self, table: str, checksum: str, frame: pd.DataFrame) -> str:
        folder = self.root / table
        folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{checksum}.parquet"
        tmp = folder / f".{name}.{uuid.uuid4().hex}.tmp"
        frame.to_parquet(tmp, index=False)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, folder / name)
        return f"{table}/{name}"

    def ledger(self) -> pd.DataFrame:
        with self._connect() as db:
            return pd.read_sql_query("SELECT * FROM ingested_files ORDER BY seq", db)

    def quarantine_log(self) -> pd.DataFrame:
        with self._connect() as db:
            return pd.read_sql_query("SELECT * FROM quarantined_files", db)

    def read_table(self, table: str) -> pd.DataFrame | None:
        """All committed rows of a table, later files overriding earlier ones on the same key."""
        with self._connect() as db:
            parts = [
                r[0]
                for r in db.execute(
                    "SELECT part FROM ingested_files WHERE table_name = ? ORDER BY seq", (table,)
                )
            ]
        if not parts:
            return None
        frame = pd.concat([pd.read_parquet(self.root / p) for p in parts], ignore_index=True)
        keys = [k for k in TABLE_KEYS.get(table, []) if k in frame]
        return frame.drop_duplicates(keys, keep="last", ignore_index=True) if keys else frame


def _date_span(frame: pd.DataFrame) -> tuple[str | None, str | None]:
    for column in (DATE, "month_start"):
        if column in frame and len(frame):
            return str(frame[column].min().date()), str(frame[column].max().date())
    return None, None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
