"""The ensemble forecaster: fitted family models, learned weights and interval calibration.

:class:`EnsembleForecaster` follows the forecaster contract (``ml.models.base``) over the fitted
members; ``update(df)`` re-anchors every member on newer history without retraining (the daily
refresh); its forecast is the weighted member forecast with the ensemble's own intervals
(``ml.ensemble.intervals``). ``ml.registry.pyfunc`` wraps it for MLflow; :func:`window_forecast`
puts a fitted one (the champion) on a past window for the promotion gate.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from feature_store.future import last_known_price
from ml.ensemble.intervals import forecast_steps
from ml.ensemble.weights import Ensemble, combine
from ml.models.base import Forecaster
from ml.models.global_model import GlobalForecaster
from ml.schema import CUTOFF, DS, SELL_PRICE, UNIQUE_ID, Y, forecast_column

logger = logging.getLogger(__name__)

DEFAULT_LEVELS = (80, 95)
KEYS = [UNIQUE_ID, DS]


class EnsembleForecaster(Forecaster):
    """Fitted family models combined by learned weights, with calibrated intervals."""

    def __init__(
        self, members: Sequence[Forecaster] = (), ensemble: Ensemble | None = None
    ) -> None:
        self.members = list(members)
        self.ensemble = ensemble

    @property
    def alias(self) -> str:  # type: ignore[override]
        return self.ensemble.alias if self.ensemble is not None else "Ensemble"

    @classmethod
    def from_fitted(
        cls, members: Sequence[Forecaster], ensemble: Ensemble, history: pd.DataFrame
    ) -> EnsembleForecaster:
        """Wrap members already fitted on ``history`` (no refit)."""
        model = cls(members, ensemble)
        model._remember(history)
        model.is_fitted_ = True
        return model

    def _fit(self, df: pd.DataFrame) -> None:
        if self.ensemble is None:
            raise ValueError("EnsembleForecaster needs learned ensemble weights to fit")
        self.members = [member.fit(df) for member in self.members]
        self._remember(df)

    def _remember(self, df: pd.DataFrame) -> None:
        """The series and the last day the members have seen (the forecast origin)."""
        self.series_ = np.sort(df[UNIQUE_ID].unique())
        self.last_ds_ = pd.Timestamp(df[DS].max())

    def update(self, df: pd.DataFrame) -> EnsembleForecaster:
        """Re-anchor every member on newer history without re-estimating it."""
        if not getattr(self, "is_fitted_", False):
            return self.fit(df)
        for member in self.members:
            if not hasattr(member, "update"):
                raise TypeError(f"{member.alias} has no update(df); retrain to refresh it")
            member.update(df)
        self._remember(df)
        return self

    def member_forecasts(
        self, h: int, X_df: pd.DataFrame | None = None, members: Sequence[Forecaster] | None = None
    ) -> pd.DataFrame:
        """``unique_id, ds`` and one point column per member that could forecast."""
        frames = []
        for member in self.members if members is None else members:
            try:
                frames.append(member.predict(h, X_df=X_df)[[*KEYS, member.alias]])
            except Exception:  # a failed family is dropped; the weights renormalise
                logger.exception("ensemble member %s failed to forecast; dropped", member.alias)
        if not frames:
            raise RuntimeError("no ensemble member could forecast")
        merged = frames[0]
        for frame in frames[1:]:
            merged = merged.merge(frame, on=KEYS, how="outer")
        return merged.sort_values(KEYS, kind="stable").reset_index(drop=True)

    def combine(self, forecasts: pd.DataFrame, level: Sequence[int]) -> pd.DataFrame:
        """Ensemble point and bounds of member forecasts (steps = position in each series).

        Precomputed ``Ensemble``, ``_step`` and ``_scale`` columns are used when present.
        """
        alias, calibration = self.alias, self.ensemble.calibration
        out = forecasts[KEYS].copy()
        if alias in forecasts:
            out[alias] = forecasts[alias].to_numpy(dtype="float64")
        else:
            out[alias] = combine(forecasts, self.ensemble.weights)
        if not level or calibration is None:
            return out
        steps = forecasts["_step"] if "_step" in forecasts else forecast_steps(forecasts)
        scale = (
            forecasts["_scale"]
            if "_scale" in forecasts
            else calibration.row_scale(forecasts[UNIQUE_ID], out[alias].to_numpy())
        )
        for lv in level:
            lower, upper = calibration.bounds(
                out[alias].to_numpy(), np.asarray(steps), np.asarray(scale), lv
            )
            out[forecast_column(alias, "lo", lv)] = lower
            out[forecast_column(alias, "hi", lv)] = upper
        return out

    @property
    def price_members(self) -> list[Forecaster]:
        """The members that learn from ``sell_price`` (what a price what-if moves)."""
        return [m for m in self.members if price_sensitive(m)]

    def base_prices(self) -> pd.Series | None:
        """The price each series' forecast assumes (its last known price), from the first
        member that learns from prices; None when no member does."""
        movers = self.price_members
        if not movers or SELL_PRICE not in movers[0].history_:
            return None
        return last_known_price(movers[0].history_)

    def _predict(self, h: int, X_df: pd.DataFrame | None, level: list[int]) -> pd.DataFrame:
        return self.combine(self.member_forecasts(h, X_df), level)


def window_forecast(
    forecaster: EnsembleForecaster,
    history: pd.DataFrame,
    cutoff: pd.Timestamp,
    h: int,
    levels: Sequence[int] = DEFAULT_LEVELS,
) -> pd.DataFrame:
    """A fitted ensemble (e.g. the champion) re-anchored at ``cutoff`` -- no retraining --
    forecasting the ``h`` days after it: a backtest-shaped frame with actuals.

    This puts the champion on the challenger's latest backtest window for the promotion gate.
    The forecaster is copied, not changed. A champion trained past ``cutoff`` has seen the
    window, which only makes the gate stricter for the challenger.
    """
    import copy

    cutoff = pd.Timestamp(cutoff)
    train = history[history[DS] <= cutoff]
    test = history[(history[DS] > cutoff) & (history[DS] <= cutoff + pd.Timedelta(days=h))]
    test = test[test[UNIQUE_ID].isin(train[UNIQUE_ID].unique())]
    exogenous = [c for c in test.columns if c not in (UNIQUE_ID, DS, Y)]
    X_df = test[[*KEYS, *exogenous]].reset_index(drop=True) if exogenous else None
    model = copy.deepcopy(forecaster).update(train)
    forecast = model.predict(h, X_df=X_df, level=list(levels))
    frame = test[[*KEYS, Y]].merge(forecast, on=KEYS, how="left", validate="one_to_one")
    frame.insert(2, CUTOFF, cutoff)
    return frame.reset_index(drop=True)


def price_sensitive(member: Forecaster) -> bool:
    """Members that learn from ``sell_price``: the global models (their feature-store inputs
    include the price features of the days they forecast)."""
    return isinstance(member, GlobalForecaster)
