"""SQL backends of the online store: SQLite (embedded default) and PostgreSQL.

Both keep two tables per namespace: ``<ns>`` (``unique_id`` primary key, binary ``payload``)
and ``<ns>__meta`` (key/value: the record layout and feature-set version). The first write
creates them and ``drop`` removes them, so nothing is left behind; reading a namespace that was
never written returns nothing. A batch read is one primary-key lookup per chunk of ids; a write
runs in a single transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from feature_store.online import DEFAULT_NAMESPACE, OnlineStore

META_KEY = "meta"
_SQLITE_CHUNK = 900  # stays under SQLite's bound-parameter limit on old builds too
_ROWS_DDL = (
    "CREATE TABLE IF NOT EXISTS {rows} (unique_id TEXT PRIMARY KEY, payload {blob} NOT NULL)"
)
_META_DDL = "CREATE TABLE IF NOT EXISTS {meta} (key TEXT PRIMARY KEY, value TEXT)"


class SQLiteOnlineStore(OnlineStore):
    """Online store in one SQLite file (WAL mode, so readers do not block the writer)."""

    def __init__(self, path: str | Path, namespace: str = DEFAULT_NAMESPACE) -> None:
        super().__init__(namespace)
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._rows, self._meta = f'"{namespace}"', f'"{namespace}__meta"'

    def _query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """Run a read; a namespace that was never written reads as empty."""
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                if "no such table" in str(error):
                    return []
                raise

    def _load_meta(self) -> dict[str, Any] | None:
        rows = self._query(f"SELECT value FROM {self._meta} WHERE key = ?", (META_KEY,))
        return json.loads(rows[0][0]) if rows else None

    def _store(self, rows: list[tuple[str, bytes]], meta: str, replace: bool) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(_ROWS_DDL.format(rows=self._rows, blob="BLOB"))
                self._conn.execute(_META_DDL.format(meta=self._meta))
                if replace:
                    self._conn.execute(f"DELETE FROM {self._rows}")
                self._conn.executemany(
                    f"INSERT OR REPLACE INTO {self._rows} (unique_id, payload) VALUES (?, ?)", rows
                )
                self._conn.execute(
                    f"INSERT OR REPLACE INTO {self._meta} (key, value) VALUES (?, ?)",
                    (META_KEY, meta),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def _fetch(self, ids: list[str]) -> list[bytes | None]:
        found: dict[str, bytes] = {}
        for start in range(0, len(ids), _SQLITE_CHUNK):
            chunk = ids[start : start + _SQLITE_CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT unique_id, payload FROM {self._rows} WHERE unique_id IN ({marks})"
            found.update(self._query(query, chunk))
        return [found.get(uid) for uid in ids]

    def _all_ids(self) -> list[str]:
        return [r[0] for r in self._query(f"SELECT unique_id FROM {self._rows}")]

    def _drop(self) -> None:
        with self._lock:
            self._conn.execute(f"DROP TABLE IF EXISTS {self._rows}")
            self._conn.execute(f"DROP TABLE IF EXISTS {self._meta}")

    def close(self) -> None:
        self._conn.close()


class PostgresOnlineStore(OnlineStore):
    """Online store in a PostgreSQL database (autocommit reads, each write one transaction)."""

    def __init__(self, url: str, namespace: str = DEFAULT_NAMESPACE) -> None:
        super().__init__(namespace)
        import psycopg
        from psycopg import sql

        self._sql, self._undefined = sql, psycopg.errors.UndefinedTable
        self._conn = psycopg.connect(url, autocommit=True)
        self._rows = sql.Identifier(namespace)
        self._meta = sql.Identifier(f"{namespace}__meta")
        self._select = self._q("SELECT unique_id, payload FROM {rows} WHERE unique_id = ANY(%s)")

    def _q(self, template: str) -> Any:
        return self._sql.SQL(template).format(rows=self._rows, meta=self._meta)

    def _query(self, query: Any, params: tuple = ()) -> list[tuple]:
        """Run a read; a namespace that was never written reads as empty."""
        try:
            return self._conn.execute(query, params).fetchall()
        except self._undefined:
            return []

    def _load_meta(self) -> dict[str, Any] | None:
        rows = self._query(self._q("SELECT value FROM {meta} WHERE key = %s"), (META_KEY,))
        return json.loads(rows[0][0]) if rows else None

    def _store(self, rows: list[tuple[str, bytes]], meta: str, replace: bool) -> None:
        upsert = self._q(
            "INSERT INTO {rows} (unique_id, payload) VALUES (%s, %s) "
            "ON CONFLICT (unique_id) DO UPDATE SET payload = EXCLUDED.payload"
        )
        set_meta = self._q(
            "INSERT INTO {meta} (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        )
        with self._conn.transaction(), self._conn.cursor() as cursor:
            cursor.execute(self._q(_ROWS_DDL.replace("{blob}", "BYTEA")))
            cursor.execute(self._q(_META_DDL))
            if replace:
                cursor.execute(self._q("DELETE FROM {rows}"))
            cursor.executemany(upsert, rows)
            cursor.execute(set_meta, (META_KEY, meta))

    def _fetch(self, ids: list[str]) -> list[bytes | None]:
        found = {uid: bytes(blob) for uid, blob in self._query(self._select, (ids,))}
        return [found.get(uid) for uid in ids]

    def _all_ids(self) -> list[str]:
        return [r[0] for r in self._query(self._q("SELECT unique_id FROM {rows}"))]

    def _drop(self) -> None:
        with self._conn.transaction():
            self._conn.execute(self._q("DROP TABLE IF EXISTS {rows}"))
            self._conn.execute(self._q("DROP TABLE IF EXISTS {meta}"))

    def close(self) -> None:
        self._conn.close()
