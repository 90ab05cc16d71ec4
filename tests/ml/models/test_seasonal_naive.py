"""Seasonal naive: repeats the last season; intervals from lag-k*m in-sample errors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.seasonal_naive import SeasonalNaive
from ml.schema import DS, UNIQUE_ID, Y


def ramp(n_days: int = 21) -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=n_days)
    return pd.DataFrame(
        {
            UNIQUE_ID: np.repeat(["a", "b"], n_days),
            DS: np.tile(days, 2),
            Y: np.concatenate([np.arange(n_days), np.full(n_days, 3.0)]).astype(float),
        }
    )


def test_forecast_repeats_the_last_season():
    forecast = SeasonalNaive(season_length=7).fit(ramp()).predict(9)
    a = forecast[forecast[UNIQUE_ID] == "a"]["SeasonalNaive"].tolist()
    assert a == [14, 15, 16, 17, 18, 19, 20, 14, 15]
    assert (forecast[forecast[UNIQUE_ID] == "b"]["SeasonalNaive"] == 3.0).all()


def test_interval_width_is_the_in_sample_seasonal_error_per_season_ahead():
    model = SeasonalNaive(season_length=7, max_seasons=2).fit(ramp())
    forecast = model.predict(14, level=[80])
    a = forecast[forecast[UNIQUE_ID] == "a"]
    width = a["SeasonalNaive-hi-80"] - a["SeasonalNaive"]
    # lag-7 differences of a ramp are all 7; lag-14 differences all 14
    assert width.tolist() == [7.0] * 7 + [14.0] * 7
    b = forecast[forecast[UNIQUE_ID] == "b"]
    assert (b["SeasonalNaive-hi-80"] == 3.0).all() and (b["SeasonalNaive-lo-80"] == 3.0).all()


def test_a_series_shorter_than_a_season_uses_its_mean():
    short = pd.DataFrame(
        {UNIQUE_ID: "c", DS: pd.date_range("2024-01-01", periods=3), Y: [1.0, 2.0, 6.0]}
    )
    forecast = SeasonalNaive(season_length=7).fit(short).predict(7, level=[90])
    assert forecast["SeasonalNaive"].tolist() == [3.0, 3.0, 3.0, 3.0, 1.0, 2.0, 6.0]
    assert forecast["SeasonalNaive-hi-90"].notna().all()
