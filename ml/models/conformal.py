"""Split-conformal prediction intervals by horizon step, shared by the global models.

A global model is fitted without the last ``H`` days of its training data, forecasts those days
and the errors become calibration scores. Each error is divided by a per-series scale (series
differ by orders of magnitude in volume, and one pooled width would be far too wide for slow
items and too narrow for fast ones), so one set of quantiles per horizon step serves every
series. Scores keep their sign: count data err more upwards than downwards, so the lower and
upper bounds use their own quantiles. Lower bounds are clipped at zero.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.schema import forecast_column

SCALE_DAYS = 56  # recent days that set each series' interval scale
# below this many scores per step the steps are pooled (a 95% quantile of 20 points is noise)
MIN_SCORES_PER_STEP = 200


def series_scale(y_tail: np.ndarray, floor: float = 0.1) -> np.ndarray:
    """Per-series error scale: mean absolute day-to-day change of each row of ``y_tail``.

    ``y_tail`` is (series, days) of the most recent history. The one-step change is the same
    quantity the RMSSE/MASE denominators use, so a score of 1 means 'one typical daily move'.
    """
    if y_tail.shape[1] < 2:
        return np.full(y_tail.shape[0], max(floor, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows with no observed move
        moves = np.nanmean(np.abs(np.diff(y_tail, axis=1)), axis=1)
    return np.maximum(np.nan_to_num(moves, nan=floor), floor)


def series_scale_from_moves(mean_moves: pd.Series, floor: float = 0.1) -> pd.Series:
    """:func:`series_scale` from already averaged absolute daily changes (NaN -> floor)."""
    return mean_moves.fillna(floor).clip(lower=floor).astype("float64")


@dataclass
class ConformalCalibrator:
    """Signed, scaled calibration scores with one column per horizon step."""

    scores: np.ndarray  # (n_scores, n_steps)

    @classmethod
    def from_errors(
        cls, actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray
    ) -> ConformalCalibrator:
        """Scores ``(actual - forecast) / scale`` from (series, steps) arrays."""
        scores = (actual - forecast) / scale[:, None]
        return cls(scores=scores[np.isfinite(scores).all(axis=1)])

    def bounds(
        self, forecast: np.ndarray, scale: np.ndarray, level: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds at ``level`` % for a (series, h) point forecast."""
        alpha = 1.0 - level / 100.0
        q_lo, q_hi = self._step_quantiles(alpha / 2), self._step_quantiles(1.0 - alpha / 2)
        h = forecast.shape[1]
        q_lo, q_hi = _extend(q_lo, h), _extend(q_hi, h)
        lower = forecast + np.minimum(q_lo, 0.0)[None, :] * scale[:, None]
        upper = forecast + np.maximum(q_hi, 0.0)[None, :] * scale[:, None]
        return np.maximum(lower, 0.0), upper

    def _step_quantiles(self, q: float) -> np.ndarray:
        """Quantile ``q`` of the scores per step, with the finite-sample conformal correction."""
        n, steps = self.scores.shape
        if n == 0:
            return np.zeros(max(steps, 1))
        method = "higher" if q >= 0.5 else "lower"
        if n < MIN_SCORES_PER_STEP:
            pooled = self.scores.ravel()
            return np.full(steps, np.quantile(pooled, _adjusted(q, pooled.size), method=method))
        return np.quantile(self.scores, _adjusted(q, n), axis=0, method=method)


def _adjusted(q: float, n: int) -> float:
    """Push the quantile outwards by the split-conformal ``(n + 1) / n`` correction."""
    if q >= 0.5:
        return min(1.0, np.ceil((n + 1) * q) / n)
    return max(0.0, 1.0 - np.ceil((n + 1) * (1.0 - q)) / n)


def _extend(values: np.ndarray, h: int) -> np.ndarray:
    """Steps beyond the calibrated horizon reuse the last calibrated step."""
    if h <= values.size:
        return values[:h]
    return np.concatenate([values, np.full(h - values.size, values[-1])])


def interval_columns(
    alias: str,
    forecast: np.ndarray,
    scale: np.ndarray,
    calibrator: ConformalCalibrator | None,
    levels: Sequence[int],
) -> dict[str, np.ndarray]:
    """Flattened ``<alias>-lo-<level>`` / ``-hi-`` columns (series-major, like the forecast)."""
    out: dict[str, np.ndarray] = {}
    for level in levels:
        if calibrator is None:
            lower, upper = forecast, forecast
        else:
            lower, upper = calibrator.bounds(forecast, scale, level)
        out[forecast_column(alias, "lo", level)] = np.minimum(lower, forecast).ravel()
        out[forecast_column(alias, "hi", level)] = np.maximum(upper, forecast).ravel()
    return out
