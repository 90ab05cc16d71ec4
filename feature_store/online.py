"""Online feature store: the latest feature state per series, for serving.

No model reads it to forecast: XGBoost and the LSTM build their forecast rows with the same
transforms over the newest history (``feature_store.joins.build_forecast_set``), so training,
backtests and forecasts share one code path and a forecast never depends on when the online
store was last refreshed. It stays because the design (DESIGN.md, environments table) keeps the
latest state per series in SQLite, Redis or PostgreSQL for readers that need a series' current
features without its history (dashboards, per-series lookups of downstream services).

One interface (:class:`OnlineStore`), three backends picked by URL (:func:`open_online_store`):

* ``sqlite:///path/to/online.db`` -- the embedded default (``sqlite:////abs/path.db`` for an
  absolute path, ``sqlite:///:memory:`` for a throw-away store);
* ``redis://host:6379/0`` -- one Redis hash per namespace, batch reads with ``HMGET``;
* ``postgresql://host:5432/db`` -- one table per namespace, batch reads with ``= ANY(...)`` on
  the primary key.

Why in-house rather than Feast: the state is one row per series keyed by ``unique_id`` and is
always read whole, so a key-value table covers it; Feast would add a registry, a repo config
and a materialisation step for no extra capability here, and its per-feature-view reads are
slower than one ``HMGET`` / one indexed ``IN`` query.

Each row is stored as one fixed-width binary record (a NumPy structured dtype: float32 stays 4
bytes, dates stay exact), so a batch read decodes 1,000 rows with a single ``np.frombuffer``.
The record layout, the feature-set version and the write time live in the namespace's metadata;
a write with another layout must say ``replace=True`` (it then swaps the whole namespace in one
transaction), so readers never mix two layouts.
"""

from __future__ import annotations

import json
import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from feature_store.definitions import FEATURE_SET_VERSION, FeatureVersionError
from ml.schema import UNIQUE_ID

DEFAULT_ONLINE_URL = "sqlite:///online_features.db"
DEFAULT_NAMESPACE = "online_features"
_TAG = "__layout__"
_NAMESPACE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,54}$")


class StaleLayoutError(RuntimeError):
    """A stored record was written with another layout than the cached one."""


class RecordCodec:
    """Rows of a frame <-> fixed-width binary records (all columns but ``unique_id``).

    Each record starts with a 4-byte tag of its layout and version, so a reader holding a stale
    layout notices on the record itself and reloads it, without a metadata query per read.
    """

    def __init__(self, fields: list[list[str]], version: str) -> None:
        self.fields = [[name, kind] for name, kind in fields]
        self.version = version
        self.tag = zlib.crc32(json.dumps([self.fields, version]).encode())
        self.dtype = np.dtype([(_TAG, "<u4"), *[(name, kind) for name, kind in self.fields]])
        self.names = [name for name, _ in self.fields]

    @classmethod
    def for_frame(cls, frame: pd.DataFrame, version: str) -> RecordCodec:
        fields = []
        for name in frame.columns.drop(UNIQUE_ID):
            kind = frame[name].dtype
            if not (pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_datetime64_dtype(kind)):
                raise TypeError(f"online store holds numbers and dates only; {name!r} is {kind}")
            fields.append([name, np.dtype(kind).newbyteorder("<").str])
        return cls(fields, version)

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> RecordCodec:
        return cls(meta["fields"], meta["version"])

    def meta(self) -> dict[str, Any]:
        return {"fields": self.fields, "version": self.version}

    def encode(self, frame: pd.DataFrame) -> list[tuple[str, bytes]]:
        records = np.empty(len(frame), dtype=self.dtype)
        records[_TAG] = self.tag
        for name in self.names:
            records[name] = frame[name].to_numpy()
        size, buffer = self.dtype.itemsize, records.tobytes()
        ids = frame[UNIQUE_ID].astype(str).tolist()
        return [(uid, buffer[i * size : (i + 1) * size]) for i, uid in enumerate(ids)]

    def _records(self, blobs: Sequence[bytes]) -> np.ndarray:
        joined = b"".join(blobs)
        if len(joined) != len(blobs) * self.dtype.itemsize:
            raise StaleLayoutError("record size differs from the cached layout")
        records = np.frombuffer(joined, dtype=self.dtype)
        if (records[_TAG] != self.tag).any():
            raise StaleLayoutError("record tag differs from the cached layout")
        return records

    def decode(self, ids: Sequence[str], blobs: Sequence[bytes]) -> pd.DataFrame:
        records = self._records(blobs)
        frame = pd.DataFrame({name: records[name] for name in self.names})
        frame.insert(0, UNIQUE_ID, list(ids))
        return frame

    def decode_one(self, uid: str, blob: bytes) -> dict[str, Any]:
        record = self._records([blob])[0]
        row: dict[str, Any] = {UNIQUE_ID: uid}
        for name in self.names:
            value = record[name]
            row[name] = pd.Timestamp(value) if value.dtype.kind == "M" else value.item()
        return row


class OnlineStore(ABC):
    """Latest feature row per ``unique_id``; subclasses supply the key-value primitives."""

    def __init__(self, namespace: str = DEFAULT_NAMESPACE) -> None:
        if not _NAMESPACE.match(namespace):
            raise ValueError(f"namespace must match {_NAMESPACE.pattern}, got {namespace!r}")
        self.namespace = namespace
        self._codec: RecordCodec | None = None

    # -- public interface ---------------------------------------------------------------------
    def write(
        self, frame: pd.DataFrame, replace: bool = False, version: str = FEATURE_SET_VERSION
    ) -> int:
        """Upsert one row per series (``replace`` drops every other series first); row count."""
        if frame[UNIQUE_ID].duplicated().any():
            raise ValueError("online state must hold one row per unique_id")
        codec = RecordCodec.for_frame(frame, version)
        stored = self._load_meta()
        if stored is not None and not replace and RecordCodec.from_meta(stored).tag != codec.tag:
            raise ValueError(
                f"namespace {self.namespace!r} holds another layout or version "
                f"({stored['version']}); write with replace=True to swap it"
            )
        meta = {**codec.meta(), "written_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self._store(codec.encode(frame), json.dumps(meta), replace)
        self._codec = codec
        return len(frame)

    def read(self, ids: Sequence[str]) -> pd.DataFrame:
        """Rows of the given series in the order asked; unknown ids are left out."""
        ids = [str(i) for i in ids]
        blobs = self._fetch(ids) if ids else []
        found = [(uid, blob) for uid, blob in zip(ids, blobs, strict=True) if blob is not None]
        if not found:
            return pd.DataFrame({UNIQUE_ID: pd.Series([], dtype=object)})
        keys, payloads = [uid for uid, _ in found], [blob for _, blob in found]
        return self._decoded(lambda codec: codec.decode(keys, payloads))

    def read_one(self, unique_id: str) -> dict[str, Any] | None:
        """One series' row as a plain dict (None when unknown): the fast path for serving."""
        blob = self._fetch([str(unique_id)])[0]
        if blob is None:
            return None
        return self._decoded(lambda codec: codec.decode_one(str(unique_id), blob))

    def _decoded(self, decode: Callable[[RecordCodec], Any]) -> Any:
        """Decode with the cached layout; reload it once from the metadata if it went stale."""
        if self._codec is not None:
            try:
                return decode(self._codec)
            except StaleLayoutError:
                self._codec = None
        meta = self._load_meta()
        if meta is None:
            raise StaleLayoutError(f"namespace {self.namespace!r} has rows but no metadata")
        self._codec = RecordCodec.from_meta(meta)
        return decode(self._codec)

    def version(self) -> str | None:
        """Feature-set version of the stored rows (None when the namespace is empty)."""
        meta = self._load_meta()
        return None if meta is None else meta["version"]

    def check_version(self, expected: str = FEATURE_SET_VERSION) -> None:
        """Raise :class:`FeatureVersionError` unless the stored rows have ``expected``."""
        stored = self.version()
        if stored != expected:
            raise FeatureVersionError(
                f"online namespace {self.namespace!r} holds version {stored!r}, "
                f"expected {expected!r}"
            )

    def ids(self) -> list[str]:
        """Every stored ``unique_id``, sorted."""
        return sorted(self._all_ids())

    def drop(self) -> None:
        """Delete the namespace (rows and metadata)."""
        self._drop()
        self._codec = None

    def __enter__(self) -> OnlineStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- backend primitives -------------------------------------------------------------------
    @abstractmethod
    def _load_meta(self) -> dict[str, Any] | None: ...

    @abstractmethod
    def _store(self, rows: list[tuple[str, bytes]], meta: str, replace: bool) -> None:
        """Write rows and metadata in one transaction (dropping other rows when ``replace``)."""

    @abstractmethod
    def _fetch(self, ids: list[str]) -> list[bytes | None]:
        """Payloads aligned with ``ids`` (None where absent)."""

    @abstractmethod
    def _all_ids(self) -> list[str]: ...

    @abstractmethod
    def _drop(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


def open_online_store(
    url: str = DEFAULT_ONLINE_URL, namespace: str = DEFAULT_NAMESPACE
) -> OnlineStore:
    """The online store behind ``url`` (``sqlite:///``, ``redis://``, ``postgresql://``)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "sqlite":
        from feature_store.online_sql import SQLiteOnlineStore

        if not url.startswith("sqlite:///"):
            raise ValueError(
                f"SQLite URLs look like sqlite:///relative.db or sqlite:////abs.db: {url!r}"
            )
        return SQLiteOnlineStore(url.removeprefix("sqlite:///"), namespace)
    if scheme in ("redis", "rediss", "unix"):
        from feature_store.online_redis import RedisOnlineStore

        return RedisOnlineStore(url, namespace)
    if scheme in ("postgresql", "postgres"):
        from feature_store.online_sql import PostgresOnlineStore

        return PostgresOnlineStore(url, namespace)
    raise ValueError(
        f"unsupported online store URL {url!r}: use sqlite://, redis:// or postgresql://"
    )
