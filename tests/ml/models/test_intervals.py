"""Split-conformal intervals (symmetric per series; signed and scaled per step), against
hand-computed values."""

from __future__ import annotations

import numpy as np

from ml.models.intervals import (
    MIN_SCORES_PER_STEP,
    ConformalCalibrator,
    conformal_rank,
    conformal_width,
    fill_nan_widths,
    interval_columns,
    series_scale,
    signed_step_quantiles,
    symmetric_bounds,
)


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


def test_the_conformal_rank_is_ceil_n_plus_one_times_q_capped_at_n():
    assert conformal_rank(9, 0.8) == 8
    assert conformal_rank(9, 0.95) == 9  # ceil(9.5) = 10 > 9: the largest
    assert conformal_rank(np.array([4, 19]), 0.5).tolist() == [3, 10]


def test_signed_step_quantiles_push_outwards_and_pool_thin_steps():
    thick = np.arange(-99.0, 101.0)  # 200 scores on step 1: -99 .. 100
    assert thick.size == MIN_SCORES_PER_STEP
    thin = np.array([-500.0, 500.0])  # 2 scores on step 2: it borrows all 202
    upper = signed_step_quantiles([thick, thin], 0.9)
    lower = signed_step_quantiles([thick, thin], 0.1)
    # 90 %: numpy's "higher" quantile at p = ceil(201 * 0.9) / 200 = 0.905 -> index 181 -> 82;
    # pooled, p = 183 / 202 -> index 183 of [-500, -99 .. 100, 500] -> 83
    assert upper.tolist() == [82.0, 83.0]
    # 10 %: "lower" at p = 1 - 181 / 200 -> index 18 -> -81; pooled, index 18 -> -82
    assert lower.tolist() == [-81.0, -82.0]
    assert signed_step_quantiles([np.array([5.0] * 300)], 0.1).tolist() == [0.0]  # never > 0
    assert signed_step_quantiles([np.array([]), np.array([])], 0.9).tolist() == [0.0, 0.0]


def test_bounds_cover_fresh_errors_at_the_requested_rate() -> None:
    """Calibrated on one draw of scaled errors, the bounds cover a second draw ~level %."""
    rng = np.random.default_rng(0)
    scale = rng.uniform(0.5, 5.0, size=2000)
    forecast = np.full((2000, 3), 50.0)
    calibrate = forecast + rng.normal(size=(2000, 3)) * scale[:, None]
    check = forecast + rng.normal(size=(2000, 3)) * scale[:, None]
    calibrator = ConformalCalibrator.from_errors(calibrate, forecast, scale)
    for level in (80, 95):
        lower, upper = calibrator.bounds(forecast, scale, level)
        coverage = ((check >= lower) & (check <= upper)).mean()
        assert abs(coverage - level / 100) < 0.02, (level, coverage)


def test_skewed_errors_give_asymmetric_bounds() -> None:
    """Count errors are skewed upwards: the upper half-width exceeds the lower one."""
    rng = np.random.default_rng(1)
    forecast = np.full((500, 2), 10.0)
    actual = forecast + rng.exponential(3.0, size=(500, 2)) - 3.0
    calibrator = ConformalCalibrator.from_errors(actual, forecast, np.ones(500))
    lower, upper = calibrator.bounds(forecast, np.ones(500), 90)
    assert (upper - forecast).mean() > 2 * (forecast - lower).mean()


def test_lower_bound_is_clipped_at_zero_and_wider_scale_widens() -> None:
    forecast = np.array([[0.5, 0.5], [0.5, 0.5]])
    calibrator = ConformalCalibrator(scores=np.linspace(-2, 2, 41)[:, None].repeat(2, axis=1))
    lower, upper = calibrator.bounds(forecast, np.array([1.0, 3.0]), 95)
    assert (lower == 0).all()
    assert (upper[1] - forecast[1] > upper[0] - forecast[0]).all()


def test_steps_beyond_the_calibration_reuse_the_last_step() -> None:
    scores = np.column_stack([np.linspace(-1, 1, 300), np.linspace(-4, 4, 300)])
    calibrator = ConformalCalibrator(scores=scores)
    _, upper = calibrator.bounds(np.full((1, 4), 10.0), np.ones(1), 80)
    assert upper[0, 1] > upper[0, 0]
    assert upper[0, 2] == upper[0, 3] == upper[0, 1]


def test_rows_with_missing_actuals_are_dropped() -> None:
    actual = np.array([[1.0, np.nan], [2.0, 3.0]])
    calibrator = ConformalCalibrator.from_errors(actual, np.ones((2, 2)), np.ones(2))
    assert calibrator.scores.shape == (1, 2)


def test_series_scale_is_mean_absolute_daily_change_with_a_floor() -> None:
    tails = np.array(
        [
            [0.0, 2.0, 0.0, 2.0],
            [1.0, 1.0, 1.0, 1.0],
            [np.nan, np.nan, 4.0, 6.0],
            [np.nan, np.nan, np.nan, 5.0],  # one observed day: no move to measure
        ]
    )
    np.testing.assert_allclose(series_scale(tails, floor=0.1), [2.0, 0.1, 2.0, 0.1])


def test_interval_columns_without_calibration_collapse_to_the_point() -> None:
    forecast = np.array([[1.0, 2.0]])
    columns = interval_columns("M", forecast, np.ones(1), None, [80])
    assert list(columns) == ["M-lo-80", "M-hi-80"]
    np.testing.assert_array_equal(columns["M-lo-80"], [1.0, 2.0])
    np.testing.assert_array_equal(columns["M-hi-80"], [1.0, 2.0])
