"""Split-conformal intervals by horizon step (``ml.models.conformal``)."""

from __future__ import annotations

import numpy as np

from ml.models.conformal import ConformalCalibrator, interval_columns, series_scale


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
