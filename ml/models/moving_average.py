"""Moving average: the mean of the last ``window`` days, flat over the horizon.

The design documents' fallback "when nothing trains" (7-day moving average); per-series
families also use it for the series they fail on. Vectorised over all series (one matrix).
Intervals are conformal per series and horizon step from the in-sample errors of the same rule:
for every recent origin ``t`` and step ``j``, how far ``y[t+j]`` fell from the mean of the
``window`` days up to ``t``.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ml.models.baseline import MatrixBaseline


def rolling_mean(matrix: np.ndarray, window: int) -> np.ndarray:
    """NaN-aware trailing mean; column ``i`` is the mean of columns ``i .. i+window-1``."""
    windows = sliding_window_view(matrix, window, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
        return np.nanmean(windows, axis=-1)


def step_errors(matrix: np.ndarray, window: int, max_horizon: int) -> np.ndarray:
    """``(n_series, max_horizon, n_origins)``: ``y[t+j] - mean(y[t-window+1 .. t])``."""
    means = rolling_mean(matrix, window)  # origin t = column window-1+i of the matrix
    n_origins = means.shape[1]
    errors = np.full((matrix.shape[0], max_horizon, n_origins), np.nan)
    for j in range(1, max_horizon + 1):
        usable = n_origins - j
        if usable > 0:
            errors[:, j - 1, :usable] = matrix[:, window - 1 + j :] - means[:, :usable]
    return errors


class MovingAverage(MatrixBaseline):
    """Flat forecast at the mean of the last ``window`` values, conformal intervals per step."""

    def __init__(
        self,
        window: int = 7,
        calibration_window: int = 364,
        max_horizon: int = 28,
        freq: str = "D",
        alias: str = "MovingAverage",
    ):
        self.window = window
        self.calibration_window = calibration_window
        self.max_horizon = max_horizon
        self.freq = freq
        self.alias = alias

    def _matrix_size(self) -> tuple[int, int]:
        return self.calibration_window + self.max_horizon + self.window - 1, self.window + 1

    def _fit_matrix(self, matrix: np.ndarray) -> None:
        level = rolling_mean(matrix[:, -self.window :], self.window)[:, 0]
        self.level_ = np.nan_to_num(level)
        self.errors_ = step_errors(matrix, self.window, self.max_horizon)

    def _point(self, steps: np.ndarray) -> np.ndarray:
        return np.repeat(self.level_[:, None], steps.size, axis=1)

    def _error_group(self, steps: np.ndarray) -> np.ndarray:
        """Steps beyond ``max_horizon`` reuse the errors of the last one."""
        return np.minimum(steps, self.max_horizon - 1)
