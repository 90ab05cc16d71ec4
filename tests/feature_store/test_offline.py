"""Offline store: exact round trip, the version on every write, atomic replacement."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from feature_store.build import build_features
from feature_store.definitions import FEATURE_SET_VERSION, FeatureVersionError
from feature_store.offline import MANIFEST_FILE, TABLE_FILE, VERSION_KEY, OfflineStore
from ml.schema import DS, UNIQUE_ID


@pytest.fixture
def table(mixed_history) -> pd.DataFrame:
    return build_features(mixed_history)


def test_round_trip_is_exact_and_versioned(tmp_path, table) -> None:
    store = OfflineStore(tmp_path)
    manifest = store.write(table, extra={"country": "US"})
    pd.testing.assert_frame_equal(store.read(), table)
    path = store.folder() / TABLE_FILE
    assert pq.read_schema(path).metadata[VERSION_KEY].decode() == FEATURE_SET_VERSION
    on_disk = json.loads((store.folder() / MANIFEST_FILE).read_text())
    assert on_disk == manifest.to_dict() == store.manifest()
    assert manifest.rows == len(table) and manifest.series == 3
    assert manifest.bytes == path.stat().st_size and manifest.extra == {"country": "US"}
    assert manifest.ds_max == str(table[DS].max().date())
    assert store.versions() == [FEATURE_SET_VERSION]


def test_read_filters_columns_series_and_dates(tmp_path, table) -> None:
    store = OfflineStore(tmp_path)
    store.write(table)
    part = store.read(
        columns=["lag_7"], ids=["CA_1__FOODS_1_002"], start="2016-03-01", end="2016-03-31"
    )
    assert list(part.columns) == [UNIQUE_ID, DS, "lag_7"]
    assert set(part[UNIQUE_ID]) == {"CA_1__FOODS_1_002"} and len(part) == 31


def test_version_mismatch_is_refused(tmp_path, table) -> None:
    store = OfflineStore(tmp_path)
    store.write(table, version="0.9.0+old")
    with pytest.raises(FeatureVersionError, match="rebuild"):
        store.read()
    assert store.read(version="0.9.0+old").shape == table.shape
    # a file renamed into the current version's folder still carries its own version inside
    store.folder().mkdir(parents=True)
    (store.folder("0.9.0+old") / TABLE_FILE).rename(store.folder() / TABLE_FILE)
    with pytest.raises(FeatureVersionError, match="0.9.0"):
        store.read()


def test_current_version_requires_the_current_columns(tmp_path, table) -> None:
    with pytest.raises(FeatureVersionError, match="lag_7"):
        OfflineStore(tmp_path).write(table.drop(columns="lag_7"))
    with pytest.raises(ValueError, match="duplicate"):
        OfflineStore(tmp_path).write(pd.concat([table, table.head(1)]))


def test_rewrite_replaces_atomically_and_leaves_no_temporary_files(
    tmp_path, table, monkeypatch
) -> None:
    store = OfflineStore(tmp_path)
    store.write(table)
    smaller = table[table[DS] < "2016-03-01"].reset_index(drop=True)
    store.write(smaller)
    assert len(store.read()) == len(smaller)
    assert sorted(p.name for p in store.folder().iterdir()) == [MANIFEST_FILE, TABLE_FILE]

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken_write)
    with pytest.raises(OSError, match="disk full"):
        store.write(table)
    assert len(store.read()) == len(smaller)  # the old table survives a failed write
    assert sorted(p.name for p in store.folder().iterdir()) == [MANIFEST_FILE, TABLE_FILE]
