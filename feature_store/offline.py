"""Offline feature store: one versioned Parquet table keyed by ``(unique_id, ds)``.

Layout under the store root::

    <root>/<name>/<feature set version>/table.parquet   the feature table (zstd)
    <root>/<name>/<feature set version>/manifest.json   rows, series, columns, date range, ...

Every write records the feature-set version twice: in the Parquet schema metadata (the
authority, it travels with the file) and in the manifest (cheap to list). Both files are written
to a temporary name in the same folder and renamed into place (atomic on POSIX), the table
before the manifest, so a reader never sees a half-written table. Reads compare the stored
version with the version asked for (by default the running code's) and refuse a mismatch.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from feature_store.build import KEY_COLUMNS, TABLE_COLUMNS
from feature_store.definitions import FEATURE_SET_VERSION, FeatureVersionError
from ml.schema import DS, UNIQUE_ID

VERSION_KEY = b"retailiq.feature_set_version"
TABLE_FILE = "table.parquet"
MANIFEST_FILE = "manifest.json"
ROW_GROUP_ROWS = 131_072


@dataclass(frozen=True)
class TableManifest:
    """What a write stored: enough for asset metadata and for a quick look without Parquet."""

    feature_set_version: str
    rows: int
    series: int
    columns: list[str]
    ds_min: str
    ds_max: str
    bytes: int
    written_at: str
    path: str
    extra: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class OfflineStore:
    """Versioned Parquet feature tables under ``root``."""

    def __init__(self, root: str | Path, name: str = "features") -> None:
        self.root = Path(root)
        self.name = name

    def folder(self, version: str = FEATURE_SET_VERSION) -> Path:
        return self.root / self.name / version

    def versions(self) -> list[str]:
        """Feature-set versions that have a table here, sorted."""
        base = self.root / self.name
        if not base.exists():
            return []
        return sorted(p.name for p in base.iterdir() if (p / TABLE_FILE).exists())

    def write(
        self,
        features: pd.DataFrame,
        version: str = FEATURE_SET_VERSION,
        extra: dict[str, Any] | None = None,
    ) -> TableManifest:
        """Atomically replace the table of ``version``; returns its manifest.

        Writing the running code's version requires exactly the code's columns, so a table can
        never claim a version it was not built with.
        """
        _validate(features, version)
        folder = self.folder(version)
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(features, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), VERSION_KEY: version.encode()}
        )
        target = folder / TABLE_FILE
        _atomic_write(target, lambda tmp: _write_parquet(table, tmp))
        manifest = _manifest(features, version, target, extra or {})
        text = json.dumps(manifest.to_dict(), indent=2)
        _atomic_write(folder / MANIFEST_FILE, lambda tmp: tmp.write_text(text))
        return manifest

    def read(
        self,
        version: str = FEATURE_SET_VERSION,
        columns: list[str] | None = None,
        ids: list[str] | None = None,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
    ) -> pd.DataFrame:
        """The table of ``version`` (optionally some columns, series and an inclusive date span).

        Raises :class:`FeatureVersionError` when no table of that version exists or the file's
        recorded version differs.
        """
        path = self.folder(version) / TABLE_FILE
        stored = self.stored_version(version)
        if stored != version:
            raise FeatureVersionError(
                f"feature table {path} holds version {stored!r}, expected {version!r}; "
                f"versions present: {self.versions()} -- rebuild the features"
            )
        wanted = None if columns is None else list(dict.fromkeys([*KEY_COLUMNS, *columns]))
        filters = _filters(ids, start, end)
        table = pq.read_table(path, columns=wanted, filters=filters or None)
        return table.to_pandas().reset_index(drop=True)

    def stored_version(self, version: str = FEATURE_SET_VERSION) -> str | None:
        """The version recorded inside the table file of ``version`` (None when absent)."""
        path = self.folder(version) / TABLE_FILE
        if not path.exists():
            return None
        metadata = pq.read_schema(path).metadata or {}
        value = metadata.get(VERSION_KEY)
        return value.decode() if value is not None else None

    def manifest(self, version: str = FEATURE_SET_VERSION) -> dict[str, Any]:
        return json.loads((self.folder(version) / MANIFEST_FILE).read_text())


def _validate(features: pd.DataFrame, version: str) -> None:
    missing = [c for c in KEY_COLUMNS if c not in features]
    if missing:
        raise ValueError(f"feature frame lacks key columns {missing}")
    if version == FEATURE_SET_VERSION and list(features.columns) != TABLE_COLUMNS:
        extra = sorted(set(features.columns) - set(TABLE_COLUMNS))
        absent = [c for c in TABLE_COLUMNS if c not in features]
        raise FeatureVersionError(
            f"frame does not match feature set {version}: missing {absent}, unexpected {extra}"
        )
    if features.duplicated(KEY_COLUMNS).any():
        raise ValueError("feature frame has duplicate (unique_id, ds) keys")


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", row_group_size=ROW_GROUP_ROWS)


def _atomic_write(target: Path, write) -> None:
    """Write via a temporary file in the target's folder, then rename over the target."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _manifest(
    features: pd.DataFrame, version: str, path: Path, extra: dict[str, Any]
) -> TableManifest:
    days = features[DS]
    return TableManifest(
        feature_set_version=version,
        rows=len(features),
        series=int(features[UNIQUE_ID].nunique()),
        columns=list(features.columns),
        ds_min=str(days.min().date()) if len(days) else "",
        ds_max=str(days.max().date()) if len(days) else "",
        bytes=path.stat().st_size,
        written_at=datetime.now(UTC).isoformat(timespec="seconds"),
        path=str(path),
        extra=extra,
    )


def _filters(
    ids: list[str] | None, start: pd.Timestamp | str | None, end: pd.Timestamp | str | None
) -> list[tuple]:
    filters: list[tuple] = []
    if ids is not None:
        filters.append((UNIQUE_ID, "in", list(ids)))
    if start is not None:
        filters.append((DS, ">=", pd.Timestamp(start)))
    if end is not None:
        filters.append((DS, "<=", pd.Timestamp(end)))
    return filters
