"""Prediction intervals from forecast errors (split-conformal): one module, one conformal rule.

Every family that has no native intervals (or whose native ones are too costly) measures how far
its forecasts missed -- in-sample h-step errors, backtest residuals, or a held-out horizon -- and
turns those errors into bounds with the finite-sample split-conformal rank
(:func:`conformal_rank`: the ``ceil((n + 1) q)``-th of ``n`` errors). Two shapes of it, each
measured as it is on the M5 shapes (BENCHMARKS.md):

* **symmetric, per series** (the baselines and the per-series families): the conformal quantile
  of each series' absolute errors per horizon step is the half-width, ``point +/- width``
  (:func:`conformal_width`, :func:`symmetric_bounds`);
* **signed, scaled, per step** (the global models; the ensemble uses the same rule on its own
  residuals in ``ml.ensemble.intervals``): errors divided by a per-series scale become
  calibration scores, one set per horizon step, keeping their sign because count data miss
  upwards more than downwards; each bound takes its own quantile
  (:func:`signed_step_quantiles`), steps with too few scores pool all steps, and steps beyond
  the calibrated horizon reuse the last one (:class:`ConformalCalibrator`).

Lower bounds are clipped at 0 for non-negative targets (unit sales).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.schema import forecast_column, forecast_columns

SCALE_DAYS = 56  # recent days that set each series' interval scale (global models)
# below this many scores a step borrows all steps' scores (a 95% quantile of 20 points is noise)
MIN_SCORES_PER_STEP = 200


def conformal_rank(n: np.ndarray | int, q: float) -> np.ndarray | int:
    """The split-conformal rank: the ``ceil((n + 1) q)``-th smallest of ``n`` scores, at most
    the largest (the bound then under-covers slightly rather than being infinite)."""
    return np.minimum(np.ceil((np.asarray(n) + 1) * q), n).astype("int64")


def _conformal_probability(q: float, n: int) -> float:
    """The quantile probability that picks the conformal rank from ``n`` sorted scores, from
    either tail (``q < 0.5``: the rank counted from the top)."""
    if q >= 0.5:
        return min(1.0, float(conformal_rank(n, q)) / n)
    return max(0.0, 1.0 - float(np.ceil((n + 1) * (1.0 - q))) / n)


def signed_step_quantiles(scores_by_step: Sequence[np.ndarray], q: float) -> np.ndarray:
    """Quantile ``q`` of the signed scores of each step, pushed outwards by the conformal
    correction: numpy's ``higher`` (``lower`` below the median) quantile at the probability of
    the conformal rank, which lands on that rank or one beyond it (never inside); a step with
    fewer than :data:`MIN_SCORES_PER_STEP` scores uses all steps'.
    Lower quantiles are clipped at 0 from above, upper ones from below (a bound never crosses
    the point). Zeros when there are no scores at all."""
    if not len(scores_by_step) or not sum(np.size(s) for s in scores_by_step):
        return np.zeros(max(len(scores_by_step), 1))
    method = "higher" if q >= 0.5 else "lower"
    pooled = np.concatenate([np.ravel(s) for s in scores_by_step])
    out = []
    for scores in scores_by_step:
        values = scores if np.size(scores) >= MIN_SCORES_PER_STEP else pooled
        out.append(np.quantile(values, _conformal_probability(q, np.size(values)), method=method))
    clip = (0.0, None) if q >= 0.5 else (None, 0.0)
    return np.clip(np.asarray(out, dtype="float64"), *clip)


def extend_steps(values: np.ndarray, h: int) -> np.ndarray:
    """Steps beyond the calibrated horizon reuse the last calibrated step."""
    if h <= values.size:
        return values[:h]
    return np.concatenate([values, np.full(h - values.size, values[-1])])


def conformal_width(errors: np.ndarray, level: int) -> np.ndarray | float:
    """Finite-sample conformal quantile of absolute errors along the last axis.

    The ceil((n+1)*level/100)-th smallest ``|error|`` of the n non-NaN errors; with too few
    errors for the level the largest one is used (the interval then under-covers slightly
    rather than being infinite). NaN where there are no errors at all.
    """
    abs_errors = np.sort(np.abs(np.asarray(errors, dtype="float64")), axis=-1)  # NaN sort last
    n = (~np.isnan(abs_errors)).sum(axis=-1)
    rank = conformal_rank(n, level / 100)
    index = np.maximum(rank - 1, 0)[..., None]
    width = np.take_along_axis(abs_errors, index, axis=-1)[..., 0]
    width = np.where(n > 0, width, np.nan)
    return float(width) if width.ndim == 0 else width


def fill_nan_widths(widths: np.ndarray) -> np.ndarray:
    """NaN half-widths (series without usable errors) -> median over series, else 0.

    ``widths`` has series on axis 0; the median is taken per remaining index (step, level).
    """
    if not np.isnan(widths).any():
        return widths
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        median = np.nan_to_num(np.nanmedian(widths, axis=0))
    return np.where(np.isnan(widths), median[None, ...], widths)


def symmetric_bounds(
    point: np.ndarray, widths: np.ndarray, levels: Sequence[int], nonnegative: bool
) -> dict[str, np.ndarray]:
    """``{"lo-<level>", "hi-<level>"}`` = point -/+ width; ``widths`` has a last level axis.

    Lower bounds are clipped at 0 for non-negative targets, never above the point.
    """
    bounds = {}
    for i, level in enumerate(levels):
        width = np.abs(widths[..., i])
        lo = point - width
        bounds[f"lo-{level}"] = np.minimum(np.maximum(lo, 0.0), point) if nonnegative else lo
        bounds[f"hi-{level}"] = point + width
    return bounds


def clip_forecast(forecast: pd.DataFrame, alias: str, levels: Sequence[int]) -> pd.DataFrame:
    """Clip point and bounds at 0 (non-negative targets); order lo <= point <= hi is kept."""
    columns = forecast_columns(alias, levels)
    out = forecast.copy()
    out[columns] = out[columns].clip(lower=0.0)
    return out


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
        q_lo, q_hi = extend_steps(q_lo, h), extend_steps(q_hi, h)
        lower = forecast + q_lo[None, :] * scale[:, None]
        upper = forecast + q_hi[None, :] * scale[:, None]
        return np.maximum(lower, 0.0), upper

    def _step_quantiles(self, q: float) -> np.ndarray:
        """Quantile ``q`` of the scores per step (:func:`signed_step_quantiles`)."""
        return signed_step_quantiles(list(self.scores.T), q)


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
