"""Base of the vectorised baselines (seasonal naive, moving average).

Both read the last days of every series as one matrix and estimate nothing, so ``update`` is a
refit. Both forecast a point per step with symmetric conformal bounds: the in-sample errors of
the same rule, grouped by how far ahead a step is, give each group's half-width per series.
Subclasses say how much history they read, what they keep of it, and how steps map to points
and to error groups.
"""

from __future__ import annotations

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


class MatrixBaseline(Forecaster):
    """Fit/predict machinery of the baselines; ``errors_`` is (series, error groups, errors)."""

    freq: str = "D"

    # -- hooks ---------------------------------------------------------------------------------
    def _matrix_size(self) -> tuple[int, int]:
        """(days of history to read, fewest days the matrix may have)."""
        raise NotImplementedError

    def _fit_matrix(self, matrix: np.ndarray) -> None:
        """Keep what forecasting needs, including ``errors_``, from the history matrix."""
        raise NotImplementedError

    def _point(self, steps: np.ndarray) -> np.ndarray:
        """(series, steps) point forecasts for the 0-based ``steps``."""
        raise NotImplementedError

    def _error_group(self, steps: np.ndarray) -> np.ndarray:
        """Index into the error groups of ``errors_`` of each 0-based step."""
        raise NotImplementedError

    # -- machinery -----------------------------------------------------------------------------
    def _fit(self, df: pd.DataFrame) -> None:
        history = prepare_history(df)
        length, min_length = self._matrix_size()
        _, matrix = history_matrix(history, length, min_length=min_length)
        self.last_ds_ = last_dates(history)
        self.nonnegative_ = is_nonnegative(history)
        self._fit_matrix(matrix)

    def update(self, df: pd.DataFrame) -> MatrixBaseline:
        """Re-anchor on newer history (nothing is estimated, so this is a refit)."""
        return self.fit(df)

    def _predict(self, h: int, X_df: pd.DataFrame | None, level: list[int]) -> pd.DataFrame:
        steps = np.arange(h)
        point = self._point(steps)
        bounds = {}
        if level:
            widths = np.stack([conformal_width(self.errors_, lv) for lv in level], axis=-1)
            widths = fill_nan_widths(widths)[:, self._error_group(steps)]
            bounds = symmetric_bounds(point, widths, level, self.nonnegative_)
        return forecast_frame(self.last_ds_, h, self.freq, self.alias, point, bounds)
