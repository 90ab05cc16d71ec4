"""Moving average: flat at the mean of the last window; per-step conformal intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.moving_average import MovingAverage, step_errors
from ml.schema import DS, UNIQUE_ID, Y


def test_forecast_is_the_mean_of_the_last_window():
    days = pd.date_range("2024-01-01", periods=14)
    frame = pd.DataFrame({UNIQUE_ID: "a", DS: days, Y: np.arange(14.0)})
    forecast = MovingAverage(window=7).fit(frame).predict(3)
    assert forecast["MovingAverage"].tolist() == [10.0, 10.0, 10.0]
    assert forecast[DS].tolist() == list(pd.date_range("2024-01-15", periods=3))


def test_step_errors_by_hand():
    matrix = np.array([[0.0, 1.0, 2.0, 3.0, 4.0]])
    errors = step_errors(matrix, window=2, max_horizon=2)
    # origins after columns 1, 2, 3, 4 with means 0.5, 1.5, 2.5, 3.5
    np.testing.assert_array_equal(errors[0, 0], [1.5, 1.5, 1.5, np.nan])
    np.testing.assert_array_equal(errors[0, 1], [2.5, 2.5, np.nan, np.nan])


def test_interval_widths_grow_with_the_step_on_a_ramp():
    days = pd.date_range("2024-01-01", periods=40)
    frame = pd.DataFrame({UNIQUE_ID: "a", DS: days, Y: np.arange(40.0)})
    forecast = MovingAverage(window=3, max_horizon=3).fit(frame).predict(4, level=[80])
    width = (forecast["MovingAverage-hi-80"] - forecast["MovingAverage"]).tolist()
    # a ramp misses its 3-day mean (centred one day back) by j + 1 at step j
    assert width == [2.0, 3.0, 4.0, 4.0]
    assert (forecast["MovingAverage-lo-80"] >= 0).all()
