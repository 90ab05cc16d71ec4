"""The lake ledger's SQLite schema, its upgrades and the statements ``ml.data.lake`` runs.

``ingested_files`` is the commit log (one row per ingested file, by content checksum),
``quarantined_files`` what was turned away, ``parts`` the live part files of every table.
Columns added after a ledger was first written are added on open (``ALTER TABLE``).
"""

from __future__ import annotations

import sqlite3

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS ingested_files (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, checksum TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL, kind TEXT NOT NULL, table_name TEXT NOT NULL, part TEXT NOT NULL,
        rows INTEGER NOT NULL, first_date TEXT, last_date TEXT, ingested_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS quarantined_files (
        checksum TEXT NOT NULL, source TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,
        details TEXT NOT NULL, quarantined_at TEXT NOT NULL)""",
]
ADDED_COLUMNS = [  # added later: ALTER TABLE adds them to older ledgers
    ("ingested_files", "rows_in", "INTEGER NOT NULL DEFAULT 0"),
    ("ingested_files", "rows_rejected", "INTEGER NOT NULL DEFAULT 0"),
    ("ingested_files", "rejected_by_code", "TEXT NOT NULL DEFAULT '{}'"),  # JSON
    ("ingested_files", "rejected_path", "TEXT"),
    ("quarantined_files", "rows_in", "INTEGER NOT NULL DEFAULT 0"),
    ("quarantined_files", "rejected_by_code", "TEXT NOT NULL DEFAULT '{}'"),
]
TABLES = ("ingested_files", "quarantined_files")
PARTS_SCHEMA = [
    """CREATE TABLE parts (
        path TEXT PRIMARY KEY, table_name TEXT NOT NULL, seq INTEGER NOT NULL,
        rows INTEGER NOT NULL, first_date TEXT, last_date TEXT)""",
    "CREATE INDEX parts_by_table ON parts (table_name, seq)",
]


def has_table(db: sqlite3.Connection, name: str) -> bool:
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return db.execute(sql, (name,)).fetchone() is not None


def missing_columns(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
    have = {(t, r[1]) for t in TABLES for r in db.execute(f"PRAGMA table_info({t})")}
    return [added for added in ADDED_COLUMNS if added[:2] not in have]


def insert(db: sqlite3.Connection, table: str, row: dict) -> int:
    sql = f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
    return db.execute(sql, tuple(row.values())).lastrowid
