"""Prediction intervals for the ensemble from its own backtest residuals (split-conformal).

The ensemble's backtest errors, each divided by its series' recent scale (mean absolute daily
change over the last :data:`SCALE_DAYS` days before the window's cutoff), become calibration
scores, one column per horizon step. Scores keep their sign (unit sales miss upwards more than
downwards), so each bound has its own quantile, pushed outwards by the finite-sample conformal
correction. A forecast row at step ``j`` of series ``s`` gets
``point + q_lo[j] * scale[s]`` and ``point + q_hi[j] * scale[s]``, the lower bound clipped at 0.
Steps with few scores pool all steps; steps beyond the calibrated horizon reuse the last one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.schema import CUTOFF, DS, UNIQUE_ID, Y, forecast_column

SCALE_DAYS = 56
SCALE_FLOOR = 0.1
MIN_SCORES_PER_STEP = 200


def recent_scale(history: pd.DataFrame, days: int = SCALE_DAYS) -> pd.Series:
    """Mean absolute daily change of each series over its last ``days`` (floored)."""
    tail = history.sort_values([UNIQUE_ID, DS], kind="stable").groupby(UNIQUE_ID).tail(days)
    moves = tail.groupby(UNIQUE_ID, sort=True)[Y].diff().abs()
    scale = moves.groupby(tail[UNIQUE_ID], sort=True).mean()
    return scale.fillna(SCALE_FLOOR).clip(lower=SCALE_FLOOR).astype("float64")


def forecast_steps(frame: pd.DataFrame) -> np.ndarray:
    """1-based horizon step of each row: days since ``cutoff``, else position in its series."""
    if CUTOFF in frame.columns:
        return ((frame[DS] - frame[CUTOFF]) / pd.Timedelta(days=1)).round().astype(int).to_numpy()
    order = frame.groupby(UNIQUE_ID, sort=False)[DS].rank(method="first")
    return order.astype(int).to_numpy()


def row_scales(frame: pd.DataFrame, history: pd.DataFrame) -> np.ndarray:
    """Each row's series scale from the history up to the row's cutoff (or all of it)."""
    if CUTOFF not in frame.columns:
        scale = recent_scale(history)
        return frame[UNIQUE_ID].map(scale).fillna(scale.median()).to_numpy(dtype="float64")
    out = np.full(len(frame), np.nan)
    for cutoff in frame[CUTOFF].unique():
        rows = (frame[CUTOFF] == cutoff).to_numpy()
        scale = recent_scale(history[history[DS] <= cutoff])
        out[rows] = frame.loc[rows, UNIQUE_ID].map(scale).fillna(scale.median()).to_numpy()
    return np.where(np.isfinite(out), out, 1.0)


def _adjusted(q: float, n: int) -> float:
    """The split-conformal ``(n + 1) / n`` push of quantile ``q`` away from the median."""
    if q >= 0.5:
        return min(1.0, np.ceil((n + 1) * q) / n)
    return max(0.0, 1.0 - np.ceil((n + 1) * (1.0 - q)) / n)


@dataclass
class ResidualCalibration:
    """Signed scaled residuals grouped by horizon step (step ``j`` is ``scores[j - 1]``)."""

    scores: list[np.ndarray]
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_backtest(
        cls, cv: pd.DataFrame, point: str, history: pd.DataFrame
    ) -> ResidualCalibration:
        """Scores from a backtest frame with ``cutoff``, ``y`` and the ``point`` column."""
        rows = cv.dropna(subset=[Y, point])
        score = (rows[Y] - rows[point]).to_numpy() / row_scales(rows, history)
        steps = forecast_steps(rows)
        horizon = int(steps.max()) if len(steps) else 0
        return cls([np.sort(score[steps == j]) for j in range(1, horizon + 1)])

    @property
    def horizon(self) -> int:
        return len(self.scores)

    def step_quantiles(self, level: int) -> tuple[np.ndarray, np.ndarray]:
        """Lower (<= 0) and upper (>= 0) score quantiles per step at ``level`` %."""
        if level not in self._cache:
            alpha = 1.0 - level / 100.0
            self._cache[level] = (self._quantiles(alpha / 2), self._quantiles(1 - alpha / 2))
        return self._cache[level]

    def _quantiles(self, q: float) -> np.ndarray:
        if not self.scores or not sum(s.size for s in self.scores):
            return np.zeros(max(self.horizon, 1))
        method = "higher" if q >= 0.5 else "lower"
        pooled = np.concatenate(self.scores)
        out = []
        for scores in self.scores:
            values = scores if scores.size >= MIN_SCORES_PER_STEP else pooled
            out.append(np.quantile(values, _adjusted(q, values.size), method=method))
        clip = (0.0, None) if q >= 0.5 else (None, 0.0)
        return np.clip(np.asarray(out), *clip)

    def bounds(
        self, point: np.ndarray, steps: np.ndarray, scale: np.ndarray, level: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row-aligned lower and upper bounds (lower clipped at 0, never above the point)."""
        q_lo, q_hi = self.step_quantiles(level)
        index = np.clip(steps, 1, len(q_lo)) - 1
        lower = np.minimum(np.maximum(point + q_lo[index] * scale, 0.0), point)
        return lower, np.maximum(point + q_hi[index] * scale, point)


def add_intervals(
    frame: pd.DataFrame,
    alias: str,
    calibration: ResidualCalibration,
    history: pd.DataFrame,
    levels: Sequence[int],
) -> pd.DataFrame:
    """``<alias>-lo/hi-<level>`` columns for a forecast or backtest frame."""
    if not levels:
        return frame
    point = frame[alias].to_numpy(dtype="float64")
    steps, scale = forecast_steps(frame), row_scales(frame, history)
    columns = {}
    for level in levels:
        lower, upper = calibration.bounds(point, steps, scale, level)
        columns[forecast_column(alias, "lo", level)] = lower
        columns[forecast_column(alias, "hi", level)] = upper
    return frame.assign(**columns)
