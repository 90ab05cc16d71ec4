"""Rolling-origin cross-validation (temporal backtesting) for any forecaster.

Nixtla convention: ``n_windows`` forecast windows of ``h`` steps whose cutoffs (last training
date) lie ``step_size`` apart, the last window ending on the last date of the data. The result
is one long frame ``unique_id, ds, cutoff, y, <alias>[, <alias>-lo/hi-<level>]`` that the metrics
and the conformal intervals consume. Exogenous columns of the future rows (prices, events,
SNAP -- everything but ``y``) are handed to ``predict`` as ``X_df``, as they would be known in
production; the target of a window is never seen by its model.

``refit=True`` trains a fresh model per window; ``refit=False`` trains once, on the first
window, and ``refit=n`` retrains every ``n`` windows. Without a refit the model must offer
``update(df) -> self`` (re-anchor the fitted model on newer history without re-estimating).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import pandas as pd

from ml.models.base import Forecaster
from ml.models.frames import step_length
from ml.schema import CUTOFF, DS, UNIQUE_ID, Y

logger = logging.getLogger(__name__)

ModelSpec = Forecaster | Callable[[], Forecaster]


def clone(model: Forecaster) -> Forecaster:
    """An unfitted copy with the same hyper-parameters."""
    return type(model)(**model.get_params())


def window_cutoffs(
    last_ds: pd.Timestamp, h: int, n_windows: int, step_size: int, freq: str = "D"
) -> list[pd.Timestamp]:
    """Cutoffs of the windows, oldest first; the last window ends on ``last_ds``."""
    if h < 1 or n_windows < 1 or step_size < 1:
        raise ValueError(
            f"h, n_windows and step_size must be >= 1, got {h}, {n_windows}, {step_size}"
        )
    step = step_length(freq)
    last_cutoff = pd.Timestamp(last_ds) - h * step
    return [last_cutoff - (n_windows - 1 - i) * step_size * step for i in range(n_windows)]


def cross_validation(
    model: ModelSpec,
    df: pd.DataFrame,
    h: int,
    n_windows: int = 1,
    step_size: int | None = None,
    refit: bool | int = True,
    level: Sequence[int] | None = None,
    freq: str = "D",
) -> pd.DataFrame:
    """Backtest forecasts with actuals for every window (see the module docstring)."""
    make = (lambda: clone(model)) if isinstance(model, Forecaster) else model
    cutoffs = window_cutoffs(df[DS].max(), h, n_windows, step_size or h, freq)
    end_of = {cutoff: cutoff + h * step_length(freq) for cutoff in cutoffs}
    fitted: Forecaster | None = None
    windows = []
    for i, cutoff in enumerate(cutoffs):
        train = df[df[DS] <= cutoff]
        if train.empty:
            raise ValueError(f"window {i}: no data up to cutoff {cutoff.date()}")
        fitted = _fit_or_update(make, fitted, train, i, refit)
        test = df[(df[DS] > cutoff) & (df[DS] <= end_of[cutoff])]
        test = test[test[UNIQUE_ID].isin(train[UNIQUE_ID].unique())]
        forecast = fitted.predict(h, X_df=_future_exogenous(test), level=level)
        windows.append(_with_actuals(forecast, test, cutoff))
        logger.info("window %d/%d (cutoff %s) done", i + 1, len(cutoffs), cutoff.date())
    return pd.concat(windows, ignore_index=True)


def _needs_refit(window: int, refit: bool | int) -> bool:
    if isinstance(refit, bool):
        return refit or window == 0
    if refit < 1:
        raise ValueError(f"refit must be a bool or an int >= 1, got {refit}")
    return window % refit == 0


def _fit_or_update(
    make: Callable[[], Forecaster],
    fitted: Forecaster | None,
    train: pd.DataFrame,
    window: int,
    refit: bool | int,
) -> Forecaster:
    if fitted is None or _needs_refit(window, refit):
        return make().fit(train)
    update = getattr(fitted, "update", None)
    if update is None:
        raise TypeError(f"{type(fitted).__name__} has no update(df): backtest it with refit=True")
    return update(train)


def _future_exogenous(test: pd.DataFrame) -> pd.DataFrame | None:
    exogenous = [c for c in test.columns if c not in (UNIQUE_ID, DS, Y)]
    return test[[UNIQUE_ID, DS, *exogenous]].reset_index(drop=True) if exogenous else None


def _with_actuals(forecast: pd.DataFrame, test: pd.DataFrame, cutoff: pd.Timestamp):
    """Actuals of the window left-joined with the forecast: a missing forecast shows as NaN."""
    actuals = test[[UNIQUE_ID, DS, Y]]
    joined = actuals.merge(forecast, on=[UNIQUE_ID, DS], how="left", validate="one_to_one")
    joined.insert(2, CUTOFF, cutoff)
    return joined
