"""Base class for families that fit one model per series (ARIMA, Prophet).

Fitting and forecasting are fanned out through :mod:`ml.models.parallel` (local processes, or Dask
when ``scheduler_address`` is set). A series whose fit or forecast raises does not stop the
family: it is served by the moving average (the design documents' fallback), its id and the
reason are kept in ``failed_``.

Subclasses supply three picklable pieces: the per-series payload of a history, a fit function
``payload -> fitted`` and a forecast function ``(fitted, update, future) -> {"mean": ...,
"lo-80": ..., "hi-80": ...}`` (the statsforecast dict convention).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ml.models.base import Forecaster
from ml.models.frames import (
    forecast_frame,
    future_frame,
    is_nonnegative,
    last_dates,
    prepare_history,
)
from ml.models.intervals import clip_forecast
from ml.models.moving_average import MovingAverage
from ml.models.parallel import DEFAULT_CHUNKS_PER_WORKER, make_backend, map_series
from ml.schema import DS, UNIQUE_ID

logger = logging.getLogger(__name__)

FALLBACK_WINDOW = 7
FALLBACK_HISTORY_DAYS = 400


class PerSeriesForecaster(Forecaster):
    """Shared fit/predict machinery; see the module docstring for the subclass hooks."""

    n_workers: int | None = None
    scheduler_address: str | None = None
    chunks_per_worker: int = DEFAULT_CHUNKS_PER_WORKER
    freq: str = "D"

    # -- hooks ---------------------------------------------------------------------------------
    def _payloads(self, history: pd.DataFrame) -> dict[str, Any]:
        raise NotImplementedError

    def _fit_function(self, history: pd.DataFrame) -> Callable[[Any], Any]:
        raise NotImplementedError

    def _forecast_function(
        self, h: int, X_df: pd.DataFrame | None, levels: list[int]
    ) -> Callable[[tuple], dict]:
        raise NotImplementedError

    def _update_payloads(self, history: pd.DataFrame) -> dict[str, Any]:
        """What ``update`` hands each series' forecast (default: its new payload)."""
        return self._payloads(history)

    # -- machinery -----------------------------------------------------------------------------
    def _backend(self):
        return make_backend(self.n_workers, self.scheduler_address)

    def _fit(self, df: pd.DataFrame) -> None:
        history = prepare_history(df, extra=list(df.columns))
        self._remember(history)
        results = map_series(
            self._fit_function(history),
            self._payloads(history),
            self._backend(),
            self.chunks_per_worker,
        )
        self.models_ = results.values
        self.failed_ = dict(results.failures)
        self.updates_: dict[str, Any] = {}

    def _remember(self, history: pd.DataFrame) -> None:
        self.last_ds_ = last_dates(history)
        self.nonnegative_ = is_nonnegative(history)
        self.recent_ = history.groupby(UNIQUE_ID, sort=False).tail(FALLBACK_HISTORY_DAYS)

    def update(self, df: pd.DataFrame) -> PerSeriesForecaster:
        """Re-anchor the fitted models on newer history without re-estimating them."""
        if not getattr(self, "is_fitted_", False):
            return self.fit(df)
        history = prepare_history(df, extra=list(df.columns))
        history = history[history[UNIQUE_ID].isin(self.last_ds_.index)]
        self._remember(history)
        self.updates_ = self._update_payloads(history)
        return self

    def _predict(self, h: int, X_df: pd.DataFrame | None, level: list[int]) -> pd.DataFrame:
        future = future_frame(self.last_ds_, h, self.freq)[DS].to_numpy()
        dates = dict(zip(self.last_ds_.index, future.reshape(len(self.last_ds_), h), strict=True))
        items = {
            uid: (model, self.updates_.get(uid), dates[uid])
            for uid, model in self.models_.items()
            if uid in dates
        }
        results = map_series(
            self._forecast_function(h, X_df, level),
            items,
            self._backend(),
            self.chunks_per_worker,
        )
        self.failed_.update(results.failures)
        frames = [self._frame(results.values, h, level), self._fallback(h, level)]
        out = pd.concat([f for f in frames if not f.empty], ignore_index=True)
        out = out.sort_values([UNIQUE_ID, DS], kind="stable").reset_index(drop=True)
        return clip_forecast(out, self.alias, level) if self.nonnegative_ else out

    def _frame(self, values: dict[str, dict], h: int, level: list[int]) -> pd.DataFrame:
        ids = [uid for uid in self.last_ds_.index if uid in values]
        point = np.array([np.asarray(values[uid]["mean"], dtype="float64") for uid in ids])
        bounds = {
            f"{kind}-{lv}": np.array([values[uid][f"{kind}-{lv}"] for uid in ids])
            for lv in level
            for kind in ("lo", "hi")
        }
        point = point.reshape(len(ids), h)
        bounds = {k: v.reshape(len(ids), h) for k, v in bounds.items()}
        return forecast_frame(self.last_ds_.loc[ids], h, self.freq, self.alias, point, bounds)

    def _fallback(self, h: int, level: list[int]) -> pd.DataFrame:
        """Moving-average forecasts for the series the family could not serve."""
        failed = [uid for uid in self.last_ds_.index if uid in self.failed_]
        if not failed:
            return pd.DataFrame()
        logger.warning("%s: %d series fall back to the moving average", self.alias, len(failed))
        fallback = MovingAverage(window=FALLBACK_WINDOW, max_horizon=h, alias=self.alias)
        recent = self.recent_[self.recent_[UNIQUE_ID].isin(failed)]
        return fallback.fit(recent).predict(h, level=level)
