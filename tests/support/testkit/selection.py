"""Model selection per series, as the design documents describe it (compared with the
ensemble by ``bench/bench_models.py``; the platform itself ensembles every family).

Rules, in order (first match wins):

1. fewer than ``min_history_days`` (90) days of history -> ``prophet``;
2. strong weekly seasonality -> ``arima`` (SARIMA): autocorrelation at lag 7 above 0.6, or
   seasonal strength above 0.7;
3. many drivers (more than ``max_features`` = 20 features) -> ``xgboost``;
4. otherwise -> ``ensemble`` (the design weights: ARIMA 20 %, Prophet 25 %, XGBoost 30 %,
   LSTM 25 %, renormalised over the families available).

History is counted from the first non-zero sale (earlier zeros mean "not listed yet").
Seasonal strength is Wang, Smith & Hyndman's ``max(0, 1 - Var(R) / Var(S + R))`` from a classical
decomposition (centred moving-average trend, mean seasonal profile). Both diagnostics use the
most recent ``window`` days and are vectorised over all series.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.models.families import ENSEMBLE_FAMILIES
from ml.models.frames import history_matrix, prepare_history
from ml.schema import CUTOFF, DS, UNIQUE_ID, Y, forecast_column

PROPHET, SARIMA, XGBOOST, ENSEMBLE = "prophet", "arima", "xgboost", "ensemble"
FAMILY = "family"
DESIGN_WEIGHTS = {spec.key: spec.design_weight for spec in ENSEMBLE_FAMILIES}


@dataclass(frozen=True)
class SelectionRules:
    """Thresholds of the design documents (all overridable)."""

    min_history_days: int = 90
    acf_threshold: float = 0.6
    strength_threshold: float = 0.7
    max_features: int = 20
    season_length: int = 7
    window: int = 364


def _nan_quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows, zero variance
        return fn(*args, **kwargs)


def seasonal_acf(matrix: np.ndarray, lag: int) -> np.ndarray:
    """Autocorrelation at ``lag`` per row (NaN-aware; 0 for a constant row)."""
    centred = matrix - _nan_quiet(np.nanmean, matrix, axis=1)[:, None]
    numerator = np.nansum(centred[:, lag:] * centred[:, :-lag], axis=1)
    denominator = np.nansum(centred**2, axis=1)
    return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), 0.0)


def seasonal_strength(matrix: np.ndarray, period: int) -> np.ndarray:
    """``max(0, 1 - Var(remainder) / Var(detrended))`` per row from a classical decomposition."""
    kernel = np.ones(period) / period
    trend = np.apply_along_axis(lambda row: np.convolve(row, kernel, mode="same"), 1, matrix)
    half = period // 2
    trend[:, :half] = np.nan
    trend[:, matrix.shape[1] - half :] = np.nan
    detrended = matrix - trend
    phase = np.arange(matrix.shape[1]) % period
    profile = np.stack(
        [_nan_quiet(np.nanmean, detrended[:, phase == p], axis=1) for p in range(period)], axis=1
    )
    remainder = detrended - profile[:, phase]
    var_detrended = _nan_quiet(np.nanvar, detrended, axis=1)
    ratio = _nan_quiet(np.divide, _nan_quiet(np.nanvar, remainder, axis=1), var_detrended)
    return np.clip(np.nan_to_num(1 - ratio, nan=0.0), 0.0, 1.0)


def seasonality_diagnostics(df: pd.DataFrame, rules: SelectionRules | None = None) -> pd.DataFrame:
    """Per series: ``history_days``, ``acf_season`` (lag = season length), ``seasonal_strength``."""
    rules = rules or SelectionRules()
    history = prepare_history(df)
    started = history[Y].ne(0).groupby(history[UNIQUE_ID], sort=False).cummax().to_numpy()
    listed = history[started]
    span = listed.groupby(UNIQUE_ID, sort=True)[DS].agg(["min", "max"])
    ids, matrix = history_matrix(listed, rules.window, min_length=2 * rules.season_length + 1)
    days = ((span["max"] - span["min"]).dt.days + 1).reindex(ids)
    out = pd.DataFrame(
        {
            "history_days": days.fillna(0).astype(int).to_numpy(),
            "acf_season": seasonal_acf(matrix, rules.season_length),
            "seasonal_strength": seasonal_strength(matrix, rules.season_length),
        },
        index=ids,
    )
    all_ids = pd.Index(sorted(history[UNIQUE_ID].unique()), name=UNIQUE_ID)
    return out.reindex(all_ids).fillna({"history_days": 0, "acf_season": 0.0}).fillna(0.0)


def select_family(
    df: pd.DataFrame, n_features: int | pd.Series = 0, rules: SelectionRules | None = None
) -> pd.Series:
    """The family each series should use (``prophet``/``arima``/``xgboost``/``ensemble``).

    ``n_features`` is the number of drivers available (one number, or one per series).
    """
    rules = rules or SelectionRules()
    diagnostics = seasonality_diagnostics(df, rules)
    features = (
        n_features.reindex(diagnostics.index).fillna(0)
        if isinstance(n_features, pd.Series)
        else pd.Series(n_features, index=diagnostics.index)
    )
    seasonal = (diagnostics["acf_season"] > rules.acf_threshold) | (
        diagnostics["seasonal_strength"] > rules.strength_threshold
    )
    family = np.select(
        [
            diagnostics["history_days"] < rules.min_history_days,
            seasonal,
            features > rules.max_features,
        ],
        [PROPHET, SARIMA, XGBOOST],
        default=ENSEMBLE,
    )
    return pd.Series(family, index=diagnostics.index, name=FAMILY)


def selected_forecast(
    forecasts: pd.DataFrame,
    choice: pd.Series,
    columns: Mapping[str, str],
    levels: list[int] | tuple = (),
    weights: Mapping[str, float] = DESIGN_WEIGHTS,
    alias: str = "Selected",
) -> pd.DataFrame:
    """Each series' forecast from its chosen family; ``ensemble`` = weighted mean of families.

    ``forecasts`` holds one point column per family (``columns`` maps family -> alias) and the
    bounds; a family chosen but unavailable falls back to the ensemble. Ensemble bounds are the
    same weighted mean of the members' bounds (an approximation, not a calibrated interval).
    """
    members = {f: w for f, w in weights.items() if f in columns}
    total = sum(members.values())
    family = forecasts[UNIQUE_ID].map(choice).fillna(ENSEMBLE).to_numpy()
    keys = [c for c in (UNIQUE_ID, DS, CUTOFF, Y) if c in forecasts.columns]
    out = forecasts[keys].copy()
    parts = [(None, None)] + [(kind, lv) for lv in levels for kind in ("lo", "hi")]
    for kind, level in parts:
        blend = sum(
            forecasts[_column(columns[f], kind, level)] * (w / total) for f, w in members.items()
        )
        values = blend.to_numpy(dtype="float64").copy()
        for fam, column in columns.items():
            mask = family == fam
            values[mask] = forecasts.loc[mask, _column(column, kind, level)].to_numpy()
        out[_column(alias, kind, level)] = values
    return out


def _column(alias: str, kind: str | None, level: int | None) -> str:
    return forecast_column(alias) if kind is None else forecast_column(alias, kind, level)
