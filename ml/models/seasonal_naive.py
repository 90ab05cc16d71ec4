"""Seasonal naive: next week repeats last week. The baseline every family must beat.

Vectorised over all series at once (one matrix of the last values). Intervals are conformal
from the in-sample errors of the same rule: a forecast ``k`` seasons ahead misses by
``y[t] - y[t - k*m]``, so the lag-``k*m`` differences over the recent history calibrate the
half-width of every step in the ``k``-th season ahead, per series.
"""

from __future__ import annotations

import warnings

import numpy as np

from ml.models.baseline import MatrixBaseline


def fill_rows(matrix: np.ndarray) -> np.ndarray:
    """Replace NaN by the row mean (0 for an all-NaN row): short or gappy series."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        means = np.nan_to_num(np.nanmean(matrix, axis=1))
    return np.where(np.isnan(matrix), means[:, None], matrix)


class SeasonalNaive(MatrixBaseline):
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

    def _matrix_size(self) -> tuple[int, int]:
        m = self.season_length
        return self.calibration_window + m * self.max_seasons, m + 1

    def _fit_matrix(self, matrix: np.ndarray) -> None:
        m = self.season_length
        self.season_ = fill_rows(matrix[:, -m:])
        self.errors_ = np.stack(
            [self._lag_errors(matrix, m * k) for k in range(1, self.max_seasons + 1)], axis=1
        )

    def _lag_errors(self, matrix: np.ndarray, lag: int) -> np.ndarray:
        """Lag-``lag`` differences over the last ``calibration_window`` points (NaN padded)."""
        errors = np.full((matrix.shape[0], self.calibration_window), np.nan)
        if lag < matrix.shape[1]:
            diffs = (matrix[:, lag:] - matrix[:, :-lag])[:, -self.calibration_window :]
            errors[:, errors.shape[1] - diffs.shape[1] :] = diffs
        return errors

    def _point(self, steps: np.ndarray) -> np.ndarray:
        return self.season_[:, steps % self.season_length]

    def _error_group(self, steps: np.ndarray) -> np.ndarray:
        """The ``k``-th season ahead uses the lag-``k*m`` errors; later seasons the last."""
        return np.minimum(steps // self.season_length, self.max_seasons - 1)
