"""Derived per-series statistics: seasonality and trend strength, intermittency.

Point in time: the statistics are recomputed at the start of every period of
``DERIVED_PERIOD_DAYS`` days (periods are aligned to ``DERIVED_EPOCH``, not to the data, so a
truncated history has the same periods) from the trailing ``DERIVED_WINDOW_DAYS`` days of sales
*before* the period start, and every day of the period carries them. A row therefore never sees
sales on or after its own day -- nor any whole-history summary.

Strengths follow Wang, Smith & Hyndman (2006): with a 2x28 centred moving average as the trend
``T``, the mean weekday profile of the detrended sales as the weekly season ``S`` and the rest
as remainder ``R``, ``seasonality = max(0, 1 - Var(R) / Var(S + R))`` and
``trend = max(0, 1 - Var(R) / Var(T + R))``. Intermittency follows Syntetos & Boylan: the share
of zero days, the average demand interval (days per day with sales; the window length when
nothing sold) and the squared coefficient of variation of the non-zero sales.
"""

from __future__ import annotations

import warnings

import numpy as np

from feature_store.definitions import (
    ACF_7,
    ADI,
    CV2,
    DERIVED_EPOCH,
    DERIVED_MIN_DAYS,
    DERIVED_PERIOD_DAYS,
    DERIVED_WINDOW_DAYS,
    SEASONALITY_STRENGTH,
    TREND_STRENGTH,
    ZERO_SHARE,
)
from feature_store.panel import Panel

DERIVED_NAMES = (SEASONALITY_STRENGTH, TREND_STRENGTH, ACF_7, ZERO_SHARE, ADI, CV2)
_HALF_MA = 14  # the 2x28 moving average spans 14 days either side
_RELATIVE_ZERO = 1e-10  # a variance below this share of the mean square is rounding noise


def period_index(days: np.ndarray) -> np.ndarray:
    """Index of the derived-statistics period each day (datetime64[D]) falls in."""
    offset = (days - np.datetime64(DERIVED_EPOCH, "D")).astype(np.int64)
    return np.floor_divide(offset, DERIVED_PERIOD_DAYS)


def derived_features(panel: Panel, y: np.ndarray) -> dict[str, np.ndarray]:
    """Derived statistics (float32) for the panel's long rows, as of each row's period start."""
    sales = panel.wide(y)
    day_periods = period_index(panel.dates.to_numpy().astype("datetime64[D]"))
    first_period, last_period = int(day_periods[0]), int(day_periods[-1])
    per_period = {name: [] for name in DERIVED_NAMES}
    for period in range(first_period, last_period + 1):
        start = np.datetime64(DERIVED_EPOCH, "D") + period * DERIVED_PERIOD_DAYS
        column = int((start - panel.dates[0].to_datetime64().astype("datetime64[D]")).astype(int))
        for name, values in window_statistics(trailing_window(sales, column)).items():
            per_period[name].append(values)
    row_period = day_periods[panel.t_idx] - first_period
    return {
        name: np.stack(columns, axis=1)[panel.s_idx, row_period].astype(np.float32)
        for name, columns in per_period.items()
    }


def trailing_window(sales: np.ndarray, column: int) -> np.ndarray:
    """The ``DERIVED_WINDOW_DAYS`` columns before ``column`` (NaN where before the data)."""
    width = DERIVED_WINDOW_DAYS
    window = np.full((sales.shape[0], width), np.nan)
    lo, hi = max(0, column - width), max(0, min(column, sales.shape[1]))
    if hi > lo:
        window[:, width - (column - lo) : width - (column - hi)] = sales[:, lo:hi]
    return window


def window_statistics(window: np.ndarray) -> dict[str, np.ndarray]:
    """Every derived statistic of each row of a ``(series, DERIVED_WINDOW_DAYS)`` window."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        stats = {**_strengths(window), ACF_7: _acf(window, 7), **_intermittency(window)}
    enough = np.sum(~np.isnan(window), axis=1) >= DERIVED_MIN_DAYS
    return {name: np.where(enough, values, np.nan) for name, values in stats.items()}


def _strengths(window: np.ndarray) -> dict[str, np.ndarray]:
    trend = _centred_ma(window)
    detrended = window - trend
    weeks = detrended.reshape(window.shape[0], -1, 7)
    profile = np.nanmean(weeks, axis=1)
    profile = profile - np.nanmean(profile, axis=1, keepdims=True)
    season = np.tile(profile, window.shape[1] // 7)
    remainder = detrended - season
    var_r = np.nanvar(remainder, axis=1)
    var_sr = np.nanvar(detrended, axis=1)
    var_tr = np.nanvar(np.where(np.isnan(remainder), np.nan, window - season), axis=1)
    scale = np.nanmean(window**2, axis=1)
    return {
        SEASONALITY_STRENGTH: _strength(var_r, var_sr, scale),
        TREND_STRENGTH: _strength(var_r, var_tr, scale),
    }


def _strength(var_remainder: np.ndarray, var_total: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``max(0, 1 - Var(R) / Var(total))``; 0 when the total varies by rounding error only."""
    varies = var_total > _RELATIVE_ZERO * scale
    ratio = np.where(varies, var_remainder / np.where(varies, var_total, 1.0), 1.0)
    return np.clip(1.0 - ratio, 0.0, 1.0)


def _centred_ma(window: np.ndarray) -> np.ndarray:
    """2x28 centred moving average along each row; NaN where it would need missing days."""
    size, width = 2 * _HALF_MA, window.shape[1]
    sums = np.pad(np.cumsum(np.nan_to_num(window), axis=1), ((0, 0), (1, 0)))
    counts = np.pad(np.cumsum(~np.isnan(window), axis=1), ((0, 0), (1, 0)))
    # ma[:, j] is the mean of days j .. j + 27
    complete = (counts[:, size:] - counts[:, :-size]) == size
    ma = np.where(complete, (sums[:, size:] - sums[:, :-size]) / size, np.nan)
    trend = np.full(window.shape, np.nan)
    trend[:, _HALF_MA : width - _HALF_MA] = 0.5 * (ma[:, :-1] + ma[:, 1:])
    return trend


def _acf(window: np.ndarray, lag: int) -> np.ndarray:
    centred = window - np.nanmean(window, axis=1, keepdims=True)
    numerator = np.nansum(centred[:, lag:] * centred[:, :-lag], axis=1)
    denominator = np.nansum(centred**2, axis=1)
    return np.where(denominator > 0, numerator / denominator, 0.0)


def _intermittency(window: np.ndarray) -> dict[str, np.ndarray]:
    known = np.sum(~np.isnan(window), axis=1)
    selling = window > 0
    n_selling = selling.sum(axis=1)
    sizes = np.where(selling, window, np.nan)
    mean_size = np.nanmean(sizes, axis=1)
    cv2 = np.where(n_selling >= 2, np.nanvar(sizes, axis=1) / mean_size**2, 0.0)
    return {
        ZERO_SHARE: np.sum(window == 0, axis=1) / known,
        ADI: np.where(n_selling > 0, known / np.maximum(n_selling, 1), known),
        CV2: cv2,
    }
