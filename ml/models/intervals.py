"""Prediction intervals from forecast errors (split-conformal), shared by every family.

A family that has no native intervals (or whose native ones are too costly) measures how far
its forecasts missed in the past -- in-sample h-step errors, or backtest residuals -- and uses
the finite-sample conformal quantile of the absolute errors as the half-width of a symmetric
interval: ``point +/- q_level``. Widths are kept per series and per horizon step (or step
bucket), so a series that is hard to forecast gets wide intervals and a far step gets wider
ones than a near step. Lower bounds are clipped at 0 for non-negative targets (unit sales).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ml.schema import CUTOFF, DS, UNIQUE_ID, Y, forecast_column

ERR = "err"
STEP = "step"


def width_column(level: int) -> str:
    """Name of the half-width column for ``level`` in a widths frame."""
    return f"width-{level}"


def conformal_width(errors: np.ndarray, level: int) -> np.ndarray | float:
    """Finite-sample conformal quantile of absolute errors along the last axis.

    The ceil((n+1)*level/100)-th smallest ``|error|`` of the n non-NaN errors; with too few
    errors for the level the largest one is used (the interval then under-covers slightly
    rather than being infinite). NaN where there are no errors at all.
    """
    abs_errors = np.sort(np.abs(np.asarray(errors, dtype="float64")), axis=-1)  # NaN sort last
    n = (~np.isnan(abs_errors)).sum(axis=-1)
    rank = np.minimum(np.ceil((n + 1) * level / 100), n).astype("int64")
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


def conformal_widths(errors: pd.DataFrame, keys: Sequence[str], levels: Sequence[int]):
    """Half-widths per group of ``keys`` (e.g. series and step) from a frame with an ``err``.

    Vectorised version of :func:`conformal_width` over groups; returns ``keys`` plus one
    ``width-<level>`` column per level.
    """
    keys = list(keys)
    frame = errors[[*keys, ERR]].assign(**{ERR: errors[ERR].abs()}).dropna(subset=[ERR])
    frame = frame.sort_values([*keys, ERR], kind="stable")
    grouped = frame.groupby(keys, sort=False)
    rank = grouped.cumcount().to_numpy() + 1
    size = grouped[ERR].transform("size").to_numpy()
    out = frame[keys].drop_duplicates().reset_index(drop=True)
    for level in levels:
        wanted = np.minimum(np.ceil((size + 1) * level / 100), size)
        picked = frame.loc[rank == wanted, [*keys, ERR]].rename(columns={ERR: width_column(level)})
        out = out.merge(picked, on=keys, how="left")
    return out


def add_interval_columns(
    forecast: pd.DataFrame,
    alias: str,
    widths: pd.DataFrame,
    levels: Sequence[int],
    nonnegative: bool,
) -> pd.DataFrame:
    """``<alias>-lo/hi-<level>`` = point -/+ width (row-aligned ``widths``), clipped at 0."""
    point = forecast[forecast_column(alias)].to_numpy(dtype="float64")
    out = forecast.copy()
    for level in levels:
        width = np.abs(widths[width_column(level)].to_numpy(dtype="float64"))
        lo, hi = point - width, point + width
        if nonnegative:
            lo = np.maximum(lo, 0.0)
        out[forecast_column(alias, "lo", level)] = np.minimum(lo, point)
        out[forecast_column(alias, "hi", level)] = np.maximum(hi, point)
    return out


def clip_forecast(forecast: pd.DataFrame, alias: str, levels: Sequence[int]) -> pd.DataFrame:
    """Clip point and bounds at 0 (non-negative targets); order lo <= point <= hi is kept."""
    columns = [forecast_column(alias)]
    for level in levels:
        columns += [forecast_column(alias, "lo", level), forecast_column(alias, "hi", level)]
    out = forecast.copy()
    out[columns] = out[columns].clip(lower=0.0)
    return out


def step_widths_from_backtest(
    cv: pd.DataFrame, alias: str, levels: Sequence[int], freq: str = "D"
) -> pd.DataFrame:
    """Per series and step half-widths from backtest residuals (``cutoff``, ``y``, ``alias``).

    This is how a global model (XGBoost, LSTM) without native intervals gets calibrated ones:
    run :func:`ml.evaluation.backtest.cross_validation`, then apply these widths to the final
    forecast with :func:`apply_step_widths`.
    """
    step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    errors = pd.DataFrame(
        {
            UNIQUE_ID: cv[UNIQUE_ID].to_numpy(),
            STEP: ((cv[DS] - cv[CUTOFF]) / step).round().astype("int64").to_numpy(),
            ERR: (cv[Y] - cv[forecast_column(alias)]).to_numpy(),
        }
    )
    return conformal_widths(errors, [UNIQUE_ID, STEP], levels)


def apply_step_widths(
    forecast: pd.DataFrame,
    alias: str,
    widths: pd.DataFrame,
    levels: Sequence[int],
    nonnegative: bool = True,
) -> pd.DataFrame:
    """Add intervals to a (series-major, date-sorted) forecast from per series and step widths.

    Gaps are filled from the nearest step of the same series; a series with no widths at all
    borrows the median width over series at that step (the last known step beyond it).
    """
    grid = forecast[[UNIQUE_ID]].copy()
    grid[STEP] = grid.groupby(UNIQUE_ID, sort=False).cumcount() + 1
    grid = grid.merge(widths, on=[UNIQUE_ID, STEP], how="left")
    for level in levels:
        column = width_column(level)
        by_series = grid.groupby(UNIQUE_ID, sort=False)[column].ffill()
        filled = by_series.groupby(grid[UNIQUE_ID], sort=False).bfill()
        by_step = widths.groupby(STEP)[column].median()
        typical = grid[STEP].clip(upper=by_step.index.max()).map(by_step)
        grid[column] = filled.fillna(typical).fillna(0.0)
    return add_interval_columns(forecast, alias, grid, levels, nonnegative)
