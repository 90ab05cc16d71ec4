"""The forecaster contract, checked for every statistical family (parametrised).

fit returns self; predict returns ``unique_id, ds, <alias>`` plus ordered ``lo``/``hi`` columns
for each level, h rows per series starting the day after the history; lo <= point <= hi;
predict before fit raises NotFittedError; hyper-parameters round-trip through get_params.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models.arima import ARIMA
from ml.models.base import NotFittedError
from ml.models.lstm import LSTMForecaster
from ml.models.moving_average import MovingAverage
from ml.models.prophet import Prophet
from ml.models.seasonal_naive import SeasonalNaive
from ml.models.xgboost import XGBoostForecaster
from ml.schema import DS, EVENT_NAME_1, UNIQUE_ID, Y

FAMILIES = {
    "seasonal_naive": lambda: SeasonalNaive(),
    "moving_average": lambda: MovingAverage(),
    "arima_fixed": lambda: ARIMA(n_workers=1),
    "arima_auto": lambda: ARIMA(search="auto", n_workers=1),
    "prophet": lambda: Prophet(n_workers=1),
    "xgboost": lambda: XGBoostForecaster(
        n_estimators=20, max_depth=3,
        calibration_horizon=10,
    ),
    "lstm": lambda: LSTMForecaster(
        input_size=14, horizon=10, hidden_size=8, embedding_dim=2, epochs=1,
        samples_per_epoch=64,
    ),
}  # fmt: skip


def weekly_panel(n_series: int = 2, n_days: int = 70, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=n_days)
    weekly = np.array([1.0, 1.0, 1.2, 1.5, 2.0, 3.0, 2.5])
    frames = []
    for i in range(n_series):
        mean = (5 + 3 * i) * weekly[days.dayofweek]
        frames.append(
            pd.DataFrame({UNIQUE_ID: f"s{i}", DS: days, Y: rng.poisson(mean).astype(float)})
        )
    frame = pd.concat(frames, ignore_index=True)
    frame[EVENT_NAME_1] = np.where(frame[DS] == "2024-02-14", "ValentinesDay", None)
    return frame


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return weekly_panel()


@pytest.mark.parametrize("family", FAMILIES)
def test_predict_before_fit_raises(family):
    with pytest.raises(NotFittedError):
        FAMILIES[family]().predict(7)


@pytest.mark.parametrize("family", FAMILIES)
def test_contract(family, panel):
    model = FAMILIES[family]()
    assert model.fit(panel) is model
    alias = model.alias
    forecast = model.predict(10, level=[95, 80])
    assert list(forecast.columns) == [
        UNIQUE_ID, DS, alias,
        f"{alias}-lo-80", f"{alias}-hi-80", f"{alias}-lo-95", f"{alias}-hi-95",
    ]  # fmt: skip
    assert len(forecast) == 2 * 10
    assert forecast.groupby(UNIQUE_ID)[DS].min().eq(pd.Timestamp("2024-03-11")).all()
    assert forecast.groupby(UNIQUE_ID)[DS].max().eq(pd.Timestamp("2024-03-20")).all()
    values = forecast.drop(columns=[UNIQUE_ID, DS])
    assert values.notna().all().all()
    assert (forecast[f"{alias}-lo-95"] <= forecast[f"{alias}-lo-80"] + 1e-9).all()
    assert (forecast[f"{alias}-lo-80"] <= forecast[alias] + 1e-9).all()
    assert (forecast[alias] <= forecast[f"{alias}-hi-80"] + 1e-9).all()
    assert (forecast[f"{alias}-hi-80"] <= forecast[f"{alias}-hi-95"] + 1e-9).all()
    assert (forecast[f"{alias}-lo-95"] >= 0).all()  # unit sales are never negative


@pytest.mark.parametrize("family", FAMILIES)
def test_point_only_and_params_round_trip(family, panel):
    model = FAMILIES[family]()
    forecast = model.fit(panel).predict(3)
    assert list(forecast.columns) == [UNIQUE_ID, DS, model.alias]
    clone = type(model)(**model.get_params())
    assert clone.get_params() == model.get_params()
    with pytest.raises(ValueError):
        model.predict(0)
