"""Prediction intervals for the ensemble from its own backtest residuals (split-conformal).

Unit sales are counts: a day forecast at 20 units misses by more than one at 0.5, and some
series are noisier than their level suggests. So each backtest residual is divided by a row
scale ``sqrt(point + 1/4) * factor[series]``, where ``factor`` is the series' root mean square
of ``residual / sqrt(point + 1/4)`` over the backtest, shrunk towards the pooled value by
``n / (n + k)`` (a short record says little). The scaled residuals become calibration scores,
one set per horizon step, keeping their sign (sales miss upwards more than downwards), so each
bound has its own quantile, pushed outwards by the finite-sample conformal correction:
``point + q_lo[step] * scale`` and ``point + q_hi[step] * scale``, the lower bound clipped at 0.
Steps with few scores pool all steps; steps beyond the calibrated horizon reuse the last one
(the conformal rule is ``ml.models.intervals.signed_step_quantiles``, shared with the global
models; only the scale differs).

Measured on the M5 shapes (``bench/bench_ensemble.py``), this scale gave intervals that cover
within a few points of nominal with about half the width of a scale from recent day-to-day
moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.models.intervals import signed_step_quantiles
from ml.schema import CUTOFF, DS, UNIQUE_ID, Y, forecast_column

OFFSET = 0.25  # keeps the scale of a zero forecast away from 0 (a Poisson sd of 1/2)
SHRINK_ROWS = 56  # residuals at which a series factor moves halfway from the pooled one


def forecast_steps(frame: pd.DataFrame) -> np.ndarray:
    """1-based horizon step of each row: days since ``cutoff``, else position in its series."""
    if CUTOFF in frame.columns:
        return ((frame[DS] - frame[CUTOFF]) / pd.Timedelta(days=1)).round().astype(int).to_numpy()
    order = frame.groupby(UNIQUE_ID, sort=False)[DS].rank(method="first")
    return order.astype(int).to_numpy()


def level_scale(point: np.ndarray) -> np.ndarray:
    """The count-data part of the scale: ``sqrt(point + OFFSET)``."""
    return np.sqrt(np.maximum(np.asarray(point, dtype="float64"), 0.0) + OFFSET)


@dataclass
class ResidualCalibration:
    """Per-series scale factors and signed scaled residuals by step (``scores[j - 1]``)."""

    scores: list[np.ndarray]
    factors: pd.Series = field(default_factory=lambda: pd.Series(dtype="float64"))
    pooled_factor: float = 1.0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_backtest(
        cls, cv: pd.DataFrame, point: str, shrink_rows: float = SHRINK_ROWS
    ) -> ResidualCalibration:
        """Calibration from a backtest frame with ``cutoff``, ``y`` and the ``point`` column."""
        rows = cv.dropna(subset=[Y, point])
        relative = (rows[Y] - rows[point]).to_numpy() / level_scale(rows[point].to_numpy())
        squares = pd.Series(relative**2, index=rows.index).groupby(rows[UNIQUE_ID].to_numpy())
        pooled = float(np.mean(relative**2)) if len(relative) else 1.0
        factors = np.sqrt((squares.sum() + shrink_rows * pooled) / (squares.size() + shrink_rows))
        calibration = cls([], factors.clip(lower=1e-3), max(np.sqrt(pooled), 1e-3))
        scores = relative / calibration.series_factor(rows[UNIQUE_ID])
        steps = forecast_steps(rows)
        horizon = int(steps.max()) if len(steps) else 0
        calibration.scores = [np.sort(scores[steps == j]) for j in range(1, horizon + 1)]
        return calibration

    @property
    def horizon(self) -> int:
        return len(self.scores)

    def series_factor(self, ids: pd.Series | np.ndarray) -> np.ndarray:
        """Each row's series factor (the pooled factor for a series without residuals)."""
        mapped = pd.Series(np.asarray(ids)).map(self.factors)
        return mapped.fillna(self.pooled_factor).to_numpy(dtype="float64")

    def row_scale(self, ids: pd.Series | np.ndarray, point: np.ndarray) -> np.ndarray:
        """``sqrt(point + OFFSET) * factor[series]`` for each row."""
        return level_scale(point) * self.series_factor(ids)

    def step_quantiles(self, level: int) -> tuple[np.ndarray, np.ndarray]:
        """Lower (<= 0) and upper (>= 0) score quantiles per step at ``level`` %."""
        if level not in self._cache:
            alpha = 1.0 - level / 100.0
            self._cache[level] = (self._quantiles(alpha / 2), self._quantiles(1 - alpha / 2))
        return self._cache[level]

    def _quantiles(self, q: float) -> np.ndarray:
        return signed_step_quantiles(self.scores, q) if self.scores else np.zeros(1)

    def bounds(
        self, point: np.ndarray, steps: np.ndarray, scale: np.ndarray, level: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row-aligned lower and upper bounds (lower clipped at 0, never above the point)."""
        q_lo, q_hi = self.step_quantiles(level)
        index = np.clip(steps, 1, len(q_lo)) - 1
        lower = np.minimum(np.maximum(point + q_lo[index] * scale, 0.0), point)
        return lower, np.maximum(point + q_hi[index] * scale, point)


def add_intervals(
    frame: pd.DataFrame, alias: str, calibration: ResidualCalibration, levels: Sequence[int]
) -> pd.DataFrame:
    """``<alias>-lo/hi-<level>`` columns for a forecast or backtest frame."""
    if not levels:
        return frame
    point = frame[alias].to_numpy(dtype="float64")
    steps = forecast_steps(frame)
    scale = calibration.row_scale(frame[UNIQUE_ID], point)
    columns = {}
    for level in levels:
        lower, upper = calibration.bounds(point, steps, scale, level)
        columns[forecast_column(alias, "lo", level)] = lower
        columns[forecast_column(alias, "hi", level)] = upper
    return frame.assign(**columns)
