"""Prophet per series: trend + weekly (and, with two years of history, yearly) seasonality, with
the calendar events of the input frame (``event_name_1``/``event_name_2``) as holidays.

Speed: Prophet optimises short series (< 100 days) with Newton's method, several times slower
than L-BFGS for the same optimum, so ``algorithm="LBFGS"`` is the default. Prophet's own
intervals simulate the trend many times per forecast; by default this family instead fits with
``uncertainty_samples=0`` and makes conformal intervals from the in-sample errors of the last
``calibration_window`` days (Prophet has no autoregressive part, so its in-sample errors are of
the same kind as its h-step errors); they come from the same ``predict`` call as the forecast.
``interval_method="native"`` keeps Prophet's sampled intervals (quantiles of
``predictive_samples``) instead.

Events in the forecast window are taken from ``X_df`` (the future calendar is known in advance);
without it only the events already in the training data are modelled and the future gets none.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd

from ml.models.base import check_choice
from ml.models.frames import series_tails
from ml.models.intervals import conformal_width
from ml.models.parallel import DEFAULT_CHUNKS_PER_WORKER
from ml.models.per_series import PerSeriesForecaster
from ml.schema import DS, EVENT_NAME_1, EVENT_NAME_2, Y

HOLIDAY = "holiday"
QUIET_LOGGERS = ("cmdstanpy", "prophet", "prophet.plot")


def quiet_logs() -> None:
    """Silence cmdstanpy/Prophet INFO chatter (called in every worker before fitting).

    cmdstanpy installs its own handler and resets its level on first use, so that first use is
    forced here before the level is raised.
    """
    from cmdstanpy.utils import get_logger

    get_logger()
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def holiday_frame(df: pd.DataFrame | None) -> pd.DataFrame:
    """Prophet holidays (``holiday``, ``ds``) from the event-name columns of a long frame."""
    columns = [c for c in (EVENT_NAME_1, EVENT_NAME_2) if df is not None and c in df.columns]
    parts = [df[[DS, c]].dropna().rename(columns={c: HOLIDAY}) for c in columns]
    if not parts:
        return pd.DataFrame(
            {HOLIDAY: pd.Series(dtype=object), DS: pd.Series(dtype="datetime64[ns]")}
        )
    events = pd.concat(parts, ignore_index=True).drop_duplicates()
    events[DS] = pd.to_datetime(events[DS])
    return events[[HOLIDAY, DS]].sort_values([DS, HOLIDAY]).reset_index(drop=True)


def fit_series(frame: pd.DataFrame, spec: dict, holidays: pd.DataFrame) -> dict:
    """Fit one series; returns the model and how many recent days calibrate its intervals."""
    from prophet import Prophet

    quiet_logs()
    if frame[Y].notna().sum() < 2:
        raise ValueError("fewer than 2 observed values")
    days = (frame[DS].max() - frame[DS].min()).days + 1
    seen = holidays[holidays[DS].between(frame[DS].min(), frame[DS].max())]
    model = Prophet(
        yearly_seasonality=days >= spec["yearly_min_days"],
        weekly_seasonality=days >= 14,
        daily_seasonality=False,
        holidays=holidays[holidays[HOLIDAY].isin(seen[HOLIDAY])] if len(seen) else None,
        changepoint_prior_scale=spec["changepoint_prior_scale"],
        seasonality_mode=spec["seasonality_mode"],
        uncertainty_samples=spec["uncertainty_samples"],
    )
    model.fit(frame[[DS, Y]], algorithm=spec["algorithm"])
    return {"model": model, "calibration_window": spec["calibration_window"]}


def forecast_series(
    item: tuple, h: int, levels: list[int], future_holidays: pd.DataFrame, native: bool
) -> dict:
    """Forecast one fitted series over its future dates, with conformal or sampled intervals."""
    fitted, _update, dates = item
    model = fitted["model"]
    trained_holidays = model.holidays
    if trained_holidays is not None and len(future_holidays):
        known = future_holidays[future_holidays[HOLIDAY].isin(trained_holidays[HOLIDAY])]
        model.holidays = pd.concat([trained_holidays, known]).drop_duplicates(ignore_index=True)
    try:
        return _forecast(fitted, pd.DataFrame({DS: pd.to_datetime(dates)}), levels, native)
    finally:
        model.holidays = trained_holidays  # the future calendar is per call, not fitted state


def _forecast(fitted: dict, future: pd.DataFrame, levels: list[int], native: bool) -> dict:
    model = fitted["model"]
    if native or not levels:
        point = model.predict(future)["yhat"].to_numpy()
        out = {"mean": point}
        if levels:
            samples = model.predictive_samples(future)["yhat"]
            for level in levels:
                out[f"lo-{level}"] = np.quantile(samples, 0.5 - level / 200, axis=1)
                out[f"hi-{level}"] = np.quantile(samples, 0.5 + level / 200, axis=1)
        return out
    recent = model.history.tail(fitted["calibration_window"])
    both = model.predict(pd.concat([recent[[DS]], future], ignore_index=True))["yhat"].to_numpy()
    errors, point = recent[Y].to_numpy() - both[: len(recent)], both[len(recent) :]
    out = {"mean": point}
    for level in levels:
        width = conformal_width(errors, level)
        out[f"lo-{level}"], out[f"hi-{level}"] = point - width, point + width
    return out


class Prophet(PerSeriesForecaster):
    """Per-series Prophet with events as holidays and (by default) conformal intervals."""

    def __init__(
        self,
        yearly_min_days: int = 730,
        changepoint_prior_scale: float = 0.05,
        seasonality_mode: Literal["additive", "multiplicative"] = "additive",
        interval_method: Literal["conformal", "native"] = "conformal",
        uncertainty_samples: int = 300,
        calibration_window: int = 364,
        train_window: int | None = None,
        algorithm: str = "LBFGS",
        n_workers: int | None = None,
        scheduler_address: str | None = None,
        chunks_per_worker: int = DEFAULT_CHUNKS_PER_WORKER,
        freq: str = "D",
        alias: str = "Prophet",
    ):
        check_choice("interval_method", interval_method, ("conformal", "native"))
        self.yearly_min_days = yearly_min_days
        self.changepoint_prior_scale = changepoint_prior_scale
        self.seasonality_mode = seasonality_mode
        self.interval_method = interval_method
        self.uncertainty_samples = uncertainty_samples
        self.calibration_window = calibration_window
        self.train_window = train_window
        self.algorithm = algorithm
        self.n_workers = n_workers
        self.scheduler_address = scheduler_address
        self.chunks_per_worker = chunks_per_worker
        self.freq = freq
        self.alias = alias

    def _spec(self) -> dict:
        native = self.interval_method == "native"
        return {
            "yearly_min_days": self.yearly_min_days,
            "changepoint_prior_scale": self.changepoint_prior_scale,
            "seasonality_mode": self.seasonality_mode,
            "uncertainty_samples": self.uncertainty_samples if native else 0,
            "calibration_window": self.calibration_window,
            "algorithm": self.algorithm,
        }

    def _payloads(self, history: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return series_tails(history, [DS, Y], self.train_window)

    def _update_payloads(self, history: pd.DataFrame) -> dict:
        """Prophet is a curve in time: re-anchoring only moves the forecast origin."""
        return {}

    def _fit_function(self, history: pd.DataFrame):
        self.holidays_ = holiday_frame(history)
        return partial(fit_series, spec=self._spec(), holidays=self.holidays_)

    def _forecast_function(self, h: int, X_df: pd.DataFrame | None, levels: list[int]):
        native = self.interval_method == "native"
        return partial(
            forecast_series, h=h, levels=levels, future_holidays=holiday_frame(X_df), native=native
        )
