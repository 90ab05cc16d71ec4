"""The feature registry: unique names, a complete split into families, a stable version."""

from __future__ import annotations

import re

import numpy as np

from feature_store import definitions as d
from feature_store.build import TABLE_COLUMNS, build_features


def test_every_feature_is_declared_once_with_a_known_family() -> None:
    names = [f.name for f in d.FEATURES]
    assert len(names) == len(set(names))
    assert set(d.TARGET_DAY_FEATURES).isdisjoint(d.STATE_FEATURES)
    assert sorted(d.TARGET_DAY_FEATURES + d.STATE_FEATURES) == sorted(names)


def test_required_lags_and_windows_are_present() -> None:
    names = set(d.feature_names("history"))
    for k in (7, 14, 28, 35, 91, 364):
        assert d.lag_name(k) in names
    for w in (7, 14, 28, 56):
        for stat in ("mean", "std", "min", "max"):
            assert d.rolling_name(stat, w) in names


def test_version_is_semver_plus_definition_hash() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{10}", d.FEATURE_SET_VERSION)
    assert d.FEATURE_SET_VERSION.startswith(d.SEMVER + "+")
    assert d._definition_hash() == d.FEATURE_SET_VERSION.split("+")[1]


def test_version_changes_when_a_definition_changes(monkeypatch) -> None:
    before = d._definition_hash()
    monkeypatch.setattr(d, "LAGS", (*d.LAGS, 728))
    assert d._definition_hash() != before


def test_built_table_has_the_declared_columns_and_dtypes(mixed_history) -> None:
    table = build_features(mixed_history)
    assert list(table.columns) == TABLE_COLUMNS
    for feature in d.FEATURES:
        assert table[feature.name].dtype == np.dtype(feature.dtype), feature.name
