"""History features: lags, rolling statistics and the weekday profile, by hand and vs pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feature_store import definitions as d
from feature_store.build import build_features
from ml.schema import DS, UNIQUE_ID, Y

A, B = ("CA_1", "FOODS_1_001"), ("CA_1", "FOODS_1_002")


@pytest.fixture
def ramp(make_history) -> pd.DataFrame:
    """y = 0, 1, 2, ... so every lag and window has an obvious value."""
    table = build_features(make_history({A: np.arange(100.0)}))
    return table.set_index(table[DS].sub(table[DS].iloc[0]).dt.days)


def test_lags_use_only_earlier_days(ramp) -> None:
    for k in d.LAGS:
        column = ramp[d.lag_name(k)]
        assert column.iloc[:k].isna().all(), k
        expected = (ramp.index[k:] - k).astype(float)
        np.testing.assert_array_equal(column.iloc[k:].to_numpy(), expected)


def test_rolling_windows_end_the_day_before(ramp) -> None:
    t = 60
    for w in d.WINDOWS:
        past = np.arange(t - w, t, dtype=float)
        row = ramp.loc[t]
        assert row[d.rolling_name("mean", w)] == pytest.approx(past.mean())
        assert row[d.rolling_name("std", w)] == pytest.approx(past.std(ddof=1), rel=1e-6)
        assert row[d.rolling_name("min", w)] == t - w
        assert row[d.rolling_name("max", w)] == t - 1
        assert np.isnan(ramp.loc[w - 1, d.rolling_name("mean", w)])  # no partial windows
        assert ramp.loc[w, d.rolling_name("mean", w)] == pytest.approx((w - 1) / 2)


def test_weekday_profile_averages_the_same_weekday(ramp) -> None:
    t = 50
    for offset in range(1, 8):
        days = [t - offset - 7 * week for week in range(d.WEEKDAY_PROFILE_WEEKS)]
        assert ramp.loc[t, d.weekday_profile_name(offset)] == pytest.approx(np.mean(days))
    assert np.isnan(ramp.loc[21, d.weekday_profile_name(1)])  # needs day 21 - 1 - 21 < 0


def test_frontier_row_holds_the_state_after_the_last_day(ramp) -> None:
    last = ramp.iloc[-1]
    assert np.isnan(last[Y]) and ramp.index[-1] == 100
    assert last[d.lag_name(1)] == 99 and last[d.rolling_name("max", 7)] == 99


def test_series_do_not_bleed_into_each_other_and_match_pandas(make_history) -> None:
    rng = np.random.default_rng(0)
    history = make_history(
        {A: rng.poisson(2.0, 90), B: rng.poisson(5.0, 60)},
        start={A: "2016-01-01", B: "2016-02-10"},
    )
    table = build_features(history)
    for uid, group in table.groupby(UNIQUE_ID):
        y = group[Y]
        assert np.isnan(group[d.lag_name(1)].iloc[0]), uid
        for k in (1, 7, 28):
            np.testing.assert_allclose(group[d.lag_name(k)], y.shift(k), equal_nan=True)
        for w in d.WINDOWS:
            rolling = y.shift(1).rolling(w, min_periods=w)
            for stat in d.ROLLING_STATS:
                expected = getattr(rolling, stat)()
                got = group[d.rolling_name(stat, w)]
                np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6, equal_nan=True)
