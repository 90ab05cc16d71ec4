"""Derived per-series statistics: known answers, and recomputed only at period starts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feature_store import definitions as d
from feature_store.build import build_features
from feature_store.definitions import DERIVED_EPOCH, DERIVED_PERIOD_DAYS
from feature_store.derived import period_index
from ml.schema import DS, Y

KEY = ("CA_1", "FOODS_1_001")
N = 300
START = "2016-01-04"  # a Monday


def period_start(day: pd.Timestamp) -> pd.Timestamp:
    """First day of the derived-statistics period holding ``day``."""
    index = int(period_index(np.array([day], dtype="datetime64[D]"))[0])
    epoch = pd.Timestamp(DERIVED_EPOCH)
    return epoch + pd.Timedelta(days=index * DERIVED_PERIOD_DAYS)


def _last_row(make_history, y) -> pd.Series:
    table = build_features(make_history({KEY: y}, start=START))
    return table.iloc[-1]


def test_pure_weekly_pattern_is_all_seasonality(make_history) -> None:
    pattern = np.array([1.0, 2, 3, 4, 5, 10, 12])
    row = _last_row(make_history, np.tile(pattern, N // 7 + 1)[:N])
    assert row[d.SEASONALITY_STRENGTH] == pytest.approx(1.0)
    assert row[d.TREND_STRENGTH] == pytest.approx(0.0, abs=1e-6)
    assert row[d.ACF_7] > 0.9
    assert row[d.ZERO_SHARE] == 0.0 and row[d.ADI] == 1.0
    assert row[d.CV2] == pytest.approx(pattern.var() / pattern.mean() ** 2, rel=0.05)


def test_linear_growth_is_all_trend(make_history) -> None:
    row = _last_row(make_history, np.arange(N, dtype=float))
    assert row[d.TREND_STRENGTH] == pytest.approx(1.0)
    assert row[d.SEASONALITY_STRENGTH] == pytest.approx(0.0, abs=1e-6)


def test_intermittent_series(make_history) -> None:
    y = np.where(np.arange(N) % 4 == 3, 4.0, 0.0)
    row = _last_row(make_history, y)
    assert row[d.ZERO_SHARE] == pytest.approx(0.75, abs=0.01)
    assert row[d.ADI] == pytest.approx(4.0, rel=0.02)
    assert row[d.CV2] == 0.0


def test_never_selling_series_has_the_known_days_as_interval(make_history) -> None:
    row = _last_row(make_history, np.zeros(N))
    known = (period_start(row[DS]) - pd.Timestamp(START)).days
    assert row[d.ZERO_SHARE] == 1.0
    assert row[d.ADI] == min(known, d.DERIVED_WINDOW_DAYS)
    assert row[d.SEASONALITY_STRENGTH] == 0.0 and row[d.TREND_STRENGTH] == 0.0


def test_statistics_change_only_at_period_starts_and_ignore_the_period_itself(
    make_history,
) -> None:
    rng = np.random.default_rng(1)
    y = rng.poisson(3.0, N).astype(float)
    table = build_features(make_history({KEY: y}, start=START))
    starts = table[DS].map(period_start)
    stats = table[d.feature_names("derived")]
    per_period = stats.groupby(starts.to_numpy()).nunique(dropna=False)
    assert (per_period <= 1).all().all()  # constant within each period

    # a spike inside a period moves that period's statistics not at all, the next one's yes
    boundary = sorted(starts.unique())[-3]
    spiked = y.copy()
    spiked[(boundary - pd.Timestamp(START)).days + 3] = 500.0
    other = build_features(make_history({KEY: spiked}, start=START))
    same = table[DS] < boundary + pd.Timedelta(days=d.DERIVED_PERIOD_DAYS)
    pd.testing.assert_frame_equal(stats[same], other.loc[same, stats.columns])
    assert not np.allclose(
        stats.loc[~same & table[Y].notna(), d.CV2], other.loc[~same & table[Y].notna(), d.CV2]
    )


def test_undefined_until_enough_history(make_history) -> None:
    table = build_features(make_history({KEY: np.ones(N)}, start=START))
    days = (table[DS] - pd.Timestamp(START)).dt.days
    starts_known = (table[DS].map(period_start) - pd.Timestamp(START)).dt.days
    defined = table[d.ZERO_SHARE].notna()
    assert (defined == (starts_known >= d.DERIVED_MIN_DAYS)).all()
    assert defined[days >= next(f for f in d.FEATURES if f.name == d.ZERO_SHARE).warmup].all()
