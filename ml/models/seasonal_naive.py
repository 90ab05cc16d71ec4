"""Seasonal naive: next week repeats last week. The baseline every family must beat.

Vectorised over all series at once (one matrix of the last values). Intervals are conformal
from the in-sample errors of the same rule: a forecast ``k`` seasons ahead misses by
``y[t] - y[t - k*m]``, so the lag-``k*m`` differences over the recent history calibrate the
half-width of every step in the ``k``-th season ahead, per series.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ml.models.base import Forecaster
from ml.models.frames import (
    forecast_frame,
    history_matrix,
    is_nonnegative,
    last_dates,
    prepare_history,
)
from ml.models.intervals import conformal_width, fill_nan_widths, symmetric_bounds


def fill_rows(matrix: np.ndarray) -> np.ndarray:
    """Replace NaN by the row mean (0 for an all-NaN row): short or gappy series."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        means = np.nan_to_num(np.nanmean(matrix, axis=1))
    return np.where(np.isnan(matrix), means[:, None], matrix)


class SeasonalNaive(Forecaster):
    """``y[T+j] = y[T+j-m*ceil(j/m)]`` with conformal intervals per series and season ahead."""

    def __init__(
        self,
        season_length: int = 7,
        calibration_window: int = 364,
        max_seasons: int = 4,
        freq: str = "D",
        alias: str = "SeasonalNaive",
    ):
        self.season_length = season_length
        self.calibration_window = calibration_window
        self.max_seasons = max_seasons
        self.freq = freq
        self.alias = alias

    def _fit(self, df: pd.DataFrame) -> None:
        history = prepare_history(df)
        m = self.season_length
        length = self.calibration_window + m * self.max_seasons
        _, matrix = history_matrix(history, length, min_length=m + 1)
        self.last_ds_ = last_dates(history)
        self.season_ = fill_rows(matrix[:, -m:])
        self.errors_ = np.stack(
            [self._lag_errors(matrix, m * k) for k in range(1, self.max_seasons + 1)], axis=1
        )
        self.nonnegative_ = is_nonnegative(history)

    def _lag_errors(self, matrix: np.ndarray, lag: int) -> np.ndarray:
        """Lag-``lag`` differences over the last ``calibration_window`` points (NaN padded)."""
        errors = np.full((matrix.shape[0], self.calibration_window), np.nan)
        if lag < matrix.shape[1]:
            diffs = (matrix[:, lag:] - matrix[:, :-lag])[:, -self.calibration_window :]
            errors[:, errors.shape[1] - diffs.shape[1] :] = diffs
        return errors

    def update(self, df: pd.DataFrame) -> SeasonalNaive:
        """Re-anchor on newer history (nothing is estimated, so this is a refit)."""
        return self.fit(df)

    def _predict(self, h: int, X_df: pd.DataFrame | None, level: list[int]) -> pd.DataFrame:
        m = self.season_length
        steps = np.arange(h)
        point = self.season_[:, steps % m]
        bounds = {}
        if level:
            widths = np.stack([conformal_width(self.errors_, lv) for lv in level], axis=-1)
            season = np.minimum(steps // m, self.max_seasons - 1)
            widths = fill_nan_widths(widths)[:, season]
            bounds = symmetric_bounds(point, widths, level, self.nonnegative_)
        return forecast_frame(self.last_ds_, h, self.freq, self.alias, point, bounds)
