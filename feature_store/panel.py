"""A dense (series x day) view of a long frame, so time-series transforms are array slices.

The long frame is sorted by ``(unique_id, ds)``; :class:`Panel` remembers, for every long row,
its series row and day column in a ``(n_series, n_days)`` matrix over the global daily range.
Transforms work on that matrix (shifts and windows along axis 1, one series per row, so a value
only ever depends on its own row's earlier cells) and gather the answer back to long rows.
Days a series does not cover are NaN in the matrix, so windows reaching before a series' first
day come out NaN rather than borrowing another series' values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ml.schema import DS, UNIQUE_ID

_CHUNK_CELLS = 8_000_000  # cells of a (rows, days, window) block reduced at once


@dataclass(frozen=True)
class Panel:
    """Where each long row sits in the ``(series, day)`` matrix."""

    ids: pd.Index
    dates: pd.DatetimeIndex
    s_idx: np.ndarray
    t_idx: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Panel:
        """Layout of a long frame with unique ``(unique_id, ds)`` keys on a daily grid."""
        codes, ids = pd.factorize(frame[UNIQUE_ID], sort=True)
        ds = frame[DS].to_numpy().astype("datetime64[D]")
        first = ds.min()
        dates = pd.date_range(pd.Timestamp(first), pd.Timestamp(ds.max()), freq="D")
        t_idx = (ds - first).astype(np.int64)
        return cls(pd.Index(ids), dates, codes.astype(np.int64), t_idx)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.ids), len(self.dates)

    def wide(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """A float64 ``(n_series, n_days)`` matrix holding ``values`` (NaN elsewhere)."""
        matrix = np.full(self.shape, np.nan)
        matrix[self.s_idx, self.t_idx] = np.asarray(values, dtype=np.float64)
        return matrix

    def gather(self, matrix: np.ndarray) -> np.ndarray:
        """The long-row values of a ``(n_series, n_days)`` matrix."""
        return matrix[self.s_idx, self.t_idx]

    def position(self) -> np.ndarray:
        """Days since the row's series began (0 on its first day)."""
        first = np.full(len(self.ids), np.iinfo(np.int64).max)
        np.minimum.at(first, self.s_idx, self.t_idx)
        return self.t_idx - first[self.s_idx]


def shift(matrix: np.ndarray, k: int) -> np.ndarray:
    """Each row moved ``k`` days later: cell ``t`` holds the value of day ``t - k``."""
    out = np.full_like(matrix, np.nan)
    if k < matrix.shape[1]:
        out[:, k:] = matrix[:, : matrix.shape[1] - k]
    return out


def window_reduce(
    matrix: np.ndarray, window: int, reduce: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """``reduce`` over the trailing ``window`` days ending at each cell (inclusive).

    ``reduce`` receives a ``(rows, days, window)`` view and reduces its last axis; windows that
    reach before the first day see NaN. Rows are processed in chunks to bound memory.
    """
    n_rows, n_days = matrix.shape
    padded = np.concatenate([np.full((n_rows, window - 1), np.nan), matrix], axis=1)
    out = np.empty((n_rows, n_days))
    step = max(1, _CHUNK_CELLS // max(1, n_days * window))
    for start in range(0, n_rows, step):
        block = sliding_window_view(padded[start : start + step], window, axis=1)
        out[start : start + step] = reduce(block)
    return out


def rolling_mean_available(matrix: np.ndarray, window: int) -> np.ndarray:
    """Mean of the non-NaN values among the trailing ``window`` days (NaN when none).

    Cumulative sums along each row, so a cell depends only on its row's earlier cells.
    """
    known = ~np.isnan(matrix)
    sums = np.cumsum(np.where(known, matrix, 0.0), axis=1)
    counts = np.cumsum(known, axis=1)
    sums = sums - np.nan_to_num(shift(sums, window), nan=0.0)
    counts = counts - np.nan_to_num(shift(counts.astype(np.float64), window), nan=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)
