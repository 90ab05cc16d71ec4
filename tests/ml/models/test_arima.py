"""Per-series SARIMA: bounded training window, search modes, re-anchoring without refit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models.arima import ARIMA
from ml.schema import DS, UNIQUE_ID, Y


def weekly(n_days: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=n_days)
    pattern = np.array([2.0, 2.0, 3.0, 4.0, 6.0, 9.0, 7.0])[days.dayofweek]
    return pd.DataFrame({UNIQUE_ID: "a", DS: days, Y: pattern + rng.normal(0, 0.3, n_days)})


def test_fixed_sarima_learns_the_weekly_pattern():
    frame = weekly(84)
    forecast = ARIMA(n_workers=1).fit(frame).predict(7)
    truth = np.array([2.0, 2.0, 3.0, 4.0, 6.0, 9.0, 7.0])[forecast[DS].dt.dayofweek]
    assert np.abs(forecast["ARIMA"].to_numpy() - truth).max() < 1.0


def test_training_window_bounds_the_history_each_series_sees():
    model = ARIMA(train_window=28, n_workers=1).fit(weekly(200))
    assert len(model.models_["a"].model_["x"]) == 28


def test_update_reanchors_without_re_estimating():
    frame = weekly(120)
    model = ARIMA(n_workers=1).fit(frame[frame[DS] < "2024-04-01"])
    coef = dict(model.models_["a"].model_["coef"])
    forecast = model.update(frame).predict(3)
    assert forecast[DS].min() == frame[DS].max() + pd.Timedelta(days=1)
    assert dict(model.models_["a"].model_["coef"]) == coef
    truth = np.array([2.0, 2.0, 3.0, 4.0, 6.0, 9.0, 7.0])[forecast[DS].dt.dayofweek]
    assert np.abs(forecast["ARIMA"].to_numpy() - truth).max() < 1.0


def test_unknown_search_is_rejected():
    with pytest.raises(ValueError, match="search"):
        ARIMA(search="exhaustive")


def test_a_sparse_series_where_css_diverges_is_refitted_by_exact_likelihood():
    # with this seed the CSS start of CSS-ML leaves every residual NaN (statsforecast raises)
    y = np.random.default_rng(80).poisson(0.25, 88).astype(float)
    frame = pd.DataFrame({UNIQUE_ID: "sparse", DS: pd.date_range("2024-01-01", periods=88), Y: y})
    model = ARIMA(n_workers=1).fit(frame)
    assert len(model.failed_) == 0
    assert model.models_["sparse"].method == "ML"
    assert model.predict(7)["ARIMA"].between(0, 2).all()
