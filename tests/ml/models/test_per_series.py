"""Per-series families: a series that makes the model raise falls back to the moving average."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models.arima import ARIMA
from ml.models.moving_average import MovingAverage
from ml.models.prophet import Prophet
from ml.schema import DS, UNIQUE_ID, Y


def panel_with_a_broken_series(n_days: int = 56) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    days = pd.date_range("2024-01-01", periods=n_days)
    good = [
        pd.DataFrame({UNIQUE_ID: uid, DS: days, Y: rng.poisson(6, n_days).astype(float)})
        for uid in ("good_1", "good_2")
    ]
    broken_y = rng.poisson(4, n_days).astype(float)
    broken_y[::2] = np.nan  # ARIMA refuses missing values; Prophet keeps > 2 values
    broken = pd.DataFrame({UNIQUE_ID: "broken", DS: days, Y: broken_y})
    return pd.concat([*good, broken], ignore_index=True)


@pytest.mark.parametrize("n_workers", [1, 2])
def test_arima_failure_falls_back_to_the_moving_average_and_is_listed(n_workers):
    frame = panel_with_a_broken_series()
    model = ARIMA(n_workers=n_workers).fit(frame)
    assert len(model.failed_) == 1
    assert list(model.failed_) == ["broken"]
    assert "missing values" in model.failed_["broken"]
    forecast = model.predict(7, level=[80])
    assert sorted(forecast[UNIQUE_ID].unique()) == ["broken", "good_1", "good_2"]
    expected = MovingAverage(window=7, max_horizon=7).fit(frame[frame[UNIQUE_ID] == "broken"])
    expected = expected.predict(7, level=[80])
    got = forecast[forecast[UNIQUE_ID] == "broken"].reset_index(drop=True)
    np.testing.assert_allclose(got["ARIMA"], expected["MovingAverage"])
    np.testing.assert_allclose(got["ARIMA-hi-80"], expected["MovingAverage-hi-80"])


def test_prophet_failure_falls_back_too():
    frame = panel_with_a_broken_series()
    frame.loc[(frame[UNIQUE_ID] == "broken") & (frame[DS] > "2024-01-02"), Y] = np.nan
    model = Prophet(n_workers=1).fit(frame[frame[UNIQUE_ID] != "good_2"])
    assert list(model.failed_) == ["broken"]
    forecast = model.predict(5)
    assert forecast.groupby(UNIQUE_ID).size().to_dict() == {"broken": 5, "good_1": 5}
    assert forecast["Prophet"].notna().all()


def test_a_family_runs_on_dask_when_a_scheduler_address_is_set():
    distributed = pytest.importorskip("distributed")
    frame = panel_with_a_broken_series()
    local = ARIMA(n_workers=1).fit(frame).predict(7, level=[80])
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        model = ARIMA(scheduler_address=cluster.scheduler_address).fit(frame)
        on_dask = model.predict(7, level=[80])
    assert list(model.failed_) == ["broken"]
    pd.testing.assert_frame_equal(on_dask, local)
