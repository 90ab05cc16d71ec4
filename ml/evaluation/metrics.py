"""Forecast accuracy: per series, per department, per backtest window and overall.

Point metrics come from ``utilsforecast.losses`` per series and cutoff:

* ``mae``, ``rmse``, ``bias`` (mean of forecast - actual: positive = over-forecast);
* ``wape`` = sum|e| / sum|y|;
* ``smape`` = mean |e| / (|y| + |yhat|), utilsforecast's convention, in [0, 1] (half the
  0-200 % textbook version);
* ``mape`` = mean |e| / |y| over the non-zero actuals only (retail demand is intermittent);
* ``mase`` = MAE / mean |y[t] - y[t-s]| and ``rmsse`` = RMSE / sqrt(mean (y[t] - y[t-s])^2),
  the in-sample naive errors of the training history up to the cutoff (``seasonality`` s = 1 by
  default). As in M5 the scale is taken from the first non-zero sale on (leading zeros mean
  "not yet listed", not "sold nothing").

Interval metrics: ``coverage_<level>``, the share of actuals inside ``[lo, hi]``.

Aggregation: a series' value is the mean over its cutoffs. A department, a window or the whole
panel takes the mean over series of every metric, except ``wape`` and ``coverage`` which are
pooled over all rows (total absolute error over total demand; share of all points covered).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from utilsforecast import losses

from ml.schema import CUTOFF, DEPT_ID, DS, UNIQUE_ID, Y, forecast_column

METRIC = "metric"
POOLED = ("wape", "coverage")
SIMPLE_LOSSES = {
    "mae": losses.mae,
    "rmse": losses.rmse,
    "wape": losses.wape,
    "smape": losses.smape,
    "mape": losses.mape,
    "bias": losses.bias,
}
SCALED_LOSSES = {"mase": losses.mase, "rmsse": losses.rmsse}


@dataclass
class Evaluation:
    """Tidy metric tables: key columns, ``metric``, then one column per model."""

    per_series_cutoff: pd.DataFrame
    per_series: pd.DataFrame
    per_department: pd.DataFrame
    per_cutoff: pd.DataFrame
    overall: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """Models as rows, metrics as columns (overall values)."""
        table = self.overall.set_index(METRIC).T
        table.columns.name = None
        return table


def model_columns(cv: pd.DataFrame) -> list[str]:
    """Point-forecast columns of a backtest frame (everything but keys, actuals, the department
    and bounds)."""
    keys = {UNIQUE_ID, DS, CUTOFF, Y, DEPT_ID}
    return [c for c in cv.columns if c not in keys and "-lo-" not in c and "-hi-" not in c]


def trim_leading_zeros(train: pd.DataFrame) -> pd.DataFrame:
    """Drop each series' days before its first non-zero value (M5 scaling convention)."""
    started = train[Y].ne(0).groupby(train[UNIQUE_ID], sort=False).cummax()
    return train[started.to_numpy()]


def point_metrics(
    cv: pd.DataFrame, train: pd.DataFrame, models: list[str], seasonality: int
) -> pd.DataFrame:
    """Per series and cutoff: ``unique_id, cutoff, metric, <models>``."""
    cv = cv.dropna(subset=models)
    parts = {name: fn(cv, models) for name, fn in SIMPLE_LOSSES.items()}
    for name, fn in SCALED_LOSSES.items():
        parts[name] = fn(cv, models, seasonality, train)
    frames = []
    for name, frame in parts.items():
        frame = frame.replace([np.inf, -np.inf], np.nan)
        frames.append(frame.assign(**{METRIC: name})[[UNIQUE_ID, CUTOFF, METRIC, *models]])
    return pd.concat(frames, ignore_index=True)


def coverage_metrics(cv: pd.DataFrame, models: list[str], levels: Sequence[int]) -> pd.DataFrame:
    """Per series and cutoff coverage for the models that carry bounds at each level."""
    frames = []
    for level in levels:
        covered = [m for m in models if forecast_column(m, "hi", level) in cv.columns]
        if not covered:
            continue
        frame = losses.coverage(cv.dropna(subset=covered), covered, level)
        frames.append(frame.assign(**{METRIC: f"coverage_{level}"}))
    if not frames:
        return pd.DataFrame(columns=[UNIQUE_ID, CUTOFF, METRIC, *models])
    return pd.concat(frames, ignore_index=True).reindex(
        columns=[UNIQUE_ID, CUTOFF, METRIC, *models]
    )


def pooled_metrics(
    cv: pd.DataFrame, models: list[str], levels: Sequence[int], by: list[str]
) -> pd.DataFrame:
    """WAPE and coverage pooled over all rows of each group in ``by`` (empty = everything)."""
    keys = by or ["_all"]
    frame = cv.assign(_all=0) if not by else cv
    groups = [frame[k] for k in keys]
    rows: dict[str, dict] = {"wape": {}}
    total = frame[Y].abs().groupby(groups, sort=True).sum()
    for model in models:
        abs_error = (frame[Y] - frame[model]).abs().groupby(groups, sort=True).sum()
        rows["wape"][model] = abs_error / total.replace(0, np.nan)
        for level in levels:
            lo, hi = forecast_column(model, "lo", level), forecast_column(model, "hi", level)
            if hi in frame.columns:
                inside = frame[Y].between(frame[lo], frame[hi]).astype(float)
                rows.setdefault(f"coverage_{level}", {})[model] = inside.groupby(groups).mean()
    out = [pd.DataFrame(values).assign(**{METRIC: name}) for name, values in rows.items()]
    table = pd.concat(out).reset_index()
    return table.drop(columns=["_all"], errors="ignore")


def aggregate(
    per_series_cutoff: pd.DataFrame, cv: pd.DataFrame, models, levels, by: list[str]
) -> pd.DataFrame:
    """Mean over series of the per-series values, with WAPE and coverage pooled instead."""
    mean_part = per_series_cutoff[~per_series_cutoff[METRIC].str.startswith(POOLED)]
    if by:
        table = mean_part.groupby([*by, METRIC], sort=True)[models].mean().reset_index()
    else:
        table = mean_part.groupby(METRIC, sort=True)[models].mean().reset_index()
    pooled = pooled_metrics(cv, models, levels, by)
    return pd.concat([table, pooled[[*by, METRIC, *models]]], ignore_index=True)


def evaluate_forecasts(
    cv: pd.DataFrame,
    train: pd.DataFrame,
    models: Sequence[str] | None = None,
    levels: Sequence[int] = (),
    seasonality: int = 1,
    trim_zeros: bool = True,
) -> Evaluation:
    """All metrics of a backtest (or holdout) frame with ``cutoff``; see the module docstring.

    ``train`` is the history the forecasts were made from (scales for MASE/RMSSE; per window
    only the days up to its cutoff count). A ``dept_id`` column in ``train`` or ``cv`` enables
    the per-department table.
    """
    models = list(models or model_columns(cv))
    history = train[[UNIQUE_ID, DS, Y]].sort_values([UNIQUE_ID, DS], kind="stable")
    history = trim_leading_zeros(history) if trim_zeros else history
    cv = _with_department(cv, train)
    parts = [point_metrics(cv, history, models, seasonality), coverage_metrics(cv, models, levels)]
    per_series_cutoff = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    per_series_cutoff = per_series_cutoff.merge(
        cv[[UNIQUE_ID, DEPT_ID]].drop_duplicates(), on=UNIQUE_ID, how="left"
    )
    per_series = per_series_cutoff.groupby([UNIQUE_ID, METRIC], sort=True)[models].mean()
    by_dept = [DEPT_ID] if cv[DEPT_ID].notna().any() else None
    return Evaluation(
        per_series_cutoff=per_series_cutoff.drop(columns=[DEPT_ID]),
        per_series=per_series.reset_index(),
        per_department=aggregate(per_series_cutoff, cv, models, levels, by_dept)
        if by_dept
        else pd.DataFrame(columns=[DEPT_ID, METRIC, *models]),
        per_cutoff=aggregate(per_series_cutoff, cv, models, levels, [CUTOFF]),
        overall=aggregate(per_series_cutoff, cv, models, levels, []),
    )


def _with_department(cv: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    if DEPT_ID in cv.columns:
        return cv
    if DEPT_ID in train.columns:
        lookup = train[[UNIQUE_ID, DEPT_ID]].drop_duplicates(UNIQUE_ID)
        return cv.merge(lookup, on=UNIQUE_ID, how="left")
    return cv.assign(**{DEPT_ID: np.nan})
