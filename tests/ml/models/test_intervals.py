"""Conformal half-widths and the intervals built from them, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.intervals import (
    ERR,
    STEP,
    apply_step_widths,
    conformal_width,
    conformal_widths,
    fill_nan_widths,
    step_widths_from_backtest,
    symmetric_bounds,
    width_column,
)
from ml.schema import CUTOFF, DS, UNIQUE_ID, Y


def test_conformal_width_is_the_finite_sample_quantile_of_absolute_errors():
    errors = np.array([-5.0, 1.0, -2.0, 4.0, 3.0, np.nan, -6.0, 7.0, 8.0, -9.0])
    # 9 errors |e| sorted: 1 2 3 4 5 6 7 8 9; 80%: ceil(10 * 0.8) = 8th -> 8; 50%: 5th -> 5
    assert conformal_width(errors, 80) == 8.0
    assert conformal_width(errors, 50) == 5.0
    # 95%: ceil(9.5) = 10 > 9 errors -> the largest
    assert conformal_width(errors, 95) == 9.0
    assert np.isnan(conformal_width(np.array([np.nan]), 80))


def test_conformal_width_works_along_the_last_axis():
    errors = np.array([[1.0, 2.0, 3.0, np.nan], [10.0, -20.0, 30.0, 40.0]])
    np.testing.assert_array_equal(conformal_width(errors, 50), [2.0, 30.0])


def test_grouped_widths_equal_the_array_version():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {UNIQUE_ID: np.repeat(["a", "b"], 30), STEP: np.tile([1, 2], 30), ERR: rng.normal(size=60)}
    )
    widths = conformal_widths(frame, [UNIQUE_ID, STEP], [80, 95])
    for (uid, step), group in frame.groupby([UNIQUE_ID, STEP]):
        row = widths[(widths[UNIQUE_ID] == uid) & (widths[STEP] == step)]
        assert row[width_column(80)].item() == conformal_width(group[ERR].to_numpy(), 80)
        assert row[width_column(95)].item() == conformal_width(group[ERR].to_numpy(), 95)


def test_symmetric_bounds_clip_at_zero_and_keep_the_order():
    point = np.array([[1.0, 5.0]])
    widths = np.array([[[2.0], [2.0]]])
    bounds = symmetric_bounds(point, widths, [80], nonnegative=True)
    np.testing.assert_array_equal(bounds["lo-80"], [[0.0, 3.0]])
    np.testing.assert_array_equal(bounds["hi-80"], [[3.0, 7.0]])
    raw = symmetric_bounds(point, widths, [80], nonnegative=False)
    np.testing.assert_array_equal(raw["lo-80"], [[-1.0, 3.0]])


def test_fill_nan_widths_uses_the_median_over_series():
    widths = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 6.0]])
    np.testing.assert_array_equal(fill_nan_widths(widths), [[1.0, 5.0], [3.0, 4.0], [2.0, 6.0]])


def test_intervals_from_backtest_residuals_per_series_and_step():
    first, second = pd.Timestamp("2024-01-08"), pd.Timestamp("2024-01-10")
    cv = pd.DataFrame(
        {
            UNIQUE_ID: ["a"] * 4 + ["b"] * 4,
            DS: pd.to_datetime(["2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12"] * 2),
            CUTOFF: [first, first, second, second] * 2,
            Y: [10.0] * 4 + [5.0] * 4,
            "M": [9.0, 7.0, 11.0, 6.0] + [5.0] * 4,
        }
    )
    widths = step_widths_from_backtest(cv, "M", [50]).set_index([UNIQUE_ID, STEP])
    # series a, step 1: errors 1, -1; step 2: errors 3, 4. 50 %: the ceil(3 * 0.5) = 2nd of 2.
    assert widths.loc[("a", 1), width_column(50)] == 1.0
    assert widths.loc[("a", 2), width_column(50)] == 4.0
    assert widths.loc[("b", 2), width_column(50)] == 0.0

    forecast = pd.DataFrame(
        {UNIQUE_ID: ["a", "a", "a", "c"], DS: pd.date_range("2024-02-01", periods=4), "M": 5.0}
    )
    out = apply_step_widths(forecast, "M", widths.reset_index(), [50])
    assert out["M-lo-50"].tolist() == [4.0, 1.0, 1.0, 4.5]  # step 3 borrows step 2
    assert out["M-hi-50"].tolist() == [6.0, 9.0, 9.0, 5.5]  # c: median of a and b at step 1
