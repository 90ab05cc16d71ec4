"""Small frame helpers shared by the model families.

Every family needs the same few moves on a long frame: a clean sorted ``unique_id, ds, y``
view, the last date of each series, and the future dates a forecast of ``h`` steps covers.
Only fixed-width frequencies (days by default) are supported: retail history is daily.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ml.schema import DS, UNIQUE_ID, Y, forecast_column


def prepare_history(df: pd.DataFrame, extra: Sequence[str] = ()) -> pd.DataFrame:
    """``unique_id, ds, y`` (+ ``extra``) sorted by series and date, ``y`` as float."""
    core = (UNIQUE_ID, DS, Y)
    columns = [*core, *[c for c in extra if c in df.columns and c not in core]]
    frame = df[columns].copy()
    frame[DS] = pd.to_datetime(frame[DS])
    frame[Y] = frame[Y].astype("float64")
    return frame.sort_values([UNIQUE_ID, DS], kind="stable").reset_index(drop=True)


def last_dates(history: pd.DataFrame) -> pd.Series:
    """Last ``ds`` of each series, indexed by ``unique_id`` in sorted order."""
    return history.groupby(UNIQUE_ID, sort=True)[DS].max()


def step_length(freq: str) -> pd.Timedelta:
    """The fixed length of one step of ``freq`` (``"D"`` -> one day)."""
    step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    if step <= pd.Timedelta(0):
        raise ValueError(f"frequency {freq!r} has no fixed positive length")
    return step


def future_frame(last_ds: pd.Series, h: int, freq: str = "D") -> pd.DataFrame:
    """``unique_id, ds`` for the ``h`` steps after each series' last date (series-major)."""
    steps = np.tile(np.arange(1, h + 1), len(last_ds))
    start = np.repeat(pd.to_datetime(last_ds.to_numpy()), h)
    return pd.DataFrame(
        {
            UNIQUE_ID: np.repeat(last_ds.index.to_numpy(), h),
            DS: start + steps * step_length(freq),
        }
    )


def series_tails(
    history: pd.DataFrame, columns: Sequence[str], window: int | None = None
) -> dict[str, pd.DataFrame]:
    """The last ``window`` rows (all when ``None``) of each series, as positional slices.

    ``history`` must be sorted by series (as :func:`prepare_history` leaves it). Slicing by the
    series boundaries costs a view per series instead of a groupby, which matters to the
    per-series families: their payloads are built in the parent, which the workers wait for.
    """
    uids = history[UNIQUE_ID].to_numpy()
    if not len(uids):
        return {}
    starts = np.flatnonzero(np.r_[True, uids[1:] != uids[:-1]])
    stops = np.r_[starts[1:], len(uids)]
    if window is not None:
        starts = np.maximum(starts, stops - window)
    frame = history[list(columns)]
    return {
        uids[a]: frame.iloc[a:b].reset_index(drop=True) for a, b in zip(starts, stops, strict=True)
    }


def is_nonnegative(history: pd.DataFrame) -> bool:
    """True where every observed target is >= 0 (unit sales): forecasts are then clipped at 0."""
    return bool((history[Y].dropna() >= 0).all())


def history_matrix(
    history: pd.DataFrame, length: int, min_length: int = 1
) -> tuple[pd.Index, np.ndarray]:
    """The last ``length`` targets of every series as a right-aligned matrix.

    Row ``i`` belongs to the ``i``-th series id (sorted); shorter series are padded with NaN on
    the left. The width is cut to the longest series (never below ``min_length``) so that short
    histories do not allocate padding. Vectorised families work on this matrix, not on loops.
    """
    ids, codes = np.unique(history[UNIQUE_ID].to_numpy(), return_inverse=True)
    size = np.bincount(codes)
    length = max(min(length, int(size.max())), min_length)
    from_end = size[codes] - history.groupby(UNIQUE_ID, sort=False).cumcount().to_numpy() - 1
    keep = from_end < length
    matrix = np.full((len(ids), length), np.nan)
    matrix[codes[keep], length - 1 - from_end[keep]] = history[Y].to_numpy()[keep]
    return pd.Index(ids, name=UNIQUE_ID), matrix


def forecast_frame(
    last_ds: pd.Series,
    h: int,
    freq: str,
    alias: str,
    point: np.ndarray,
    bounds: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Long forecast frame from ``(n_series, h)`` arrays: the point and ``{"lo-80": ...}``."""
    frame = future_frame(last_ds, h, freq)
    frame[forecast_column(alias)] = np.asarray(point, dtype="float64").reshape(-1)
    levels = sorted({int(key.split("-")[1]) for key in bounds or {}})
    for level in levels:
        for kind in ("lo", "hi"):
            values = np.asarray(bounds[f"{kind}-{level}"], dtype="float64").reshape(-1)
            frame[forecast_column(alias, kind, level)] = values
    return frame
