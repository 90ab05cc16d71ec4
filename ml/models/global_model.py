"""Base of the global models (XGBoost, LSTM): one model over all series, with covariates.

Both learn the same covariate vocabularies from the sorted history at fit (hierarchy values,
reference prices, event names), keep the same recent prices for the future covariates, re-anchor
on newer history without retraining, and answer with the same frame: the point and the conformal
bounds of their calibrator. Subclasses train (``_fit_sorted``) and re-anchor (``_anchor``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.base import Forecaster
from ml.models.covariates import event_vocabulary, reference_prices, static_vocabulary
from ml.models.intervals import ConformalCalibrator, interval_columns
from ml.schema import DS, SELL_PRICE, UNIQUE_ID


def sort_series(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` by series and date on a fresh positional index (the order the arrays assume)."""
    return df.sort_values([UNIQUE_ID, DS], kind="stable").reset_index(drop=True)


def price_history(df: pd.DataFrame) -> pd.DataFrame:
    """What future covariates extend: series, dates and prices (when the history has them)."""
    return df[[UNIQUE_ID, DS, *([SELL_PRICE] if SELL_PRICE in df else [])]]


class GlobalForecaster(Forecaster):
    """Shared fit/update/output of the global models; see the module docstring for the hooks."""

    calibrator_: ConformalCalibrator | None

    # -- hooks ---------------------------------------------------------------------------------
    def _fit_sorted(self, df: pd.DataFrame) -> None:
        """Train on the sorted history once the covariate vocabularies are known."""
        raise NotImplementedError

    def _anchor(self, df: pd.DataFrame) -> None:
        """Take the (sorted) history that forecasts start from, without retraining."""
        raise NotImplementedError

    # -- machinery -----------------------------------------------------------------------------
    def _fit(self, df: pd.DataFrame) -> None:
        df = sort_series(df)
        self.static_vocab_ = static_vocabulary(df)
        self.ref_price_ = reference_prices(df)
        self.events_ = event_vocabulary(df)
        self._fit_sorted(df)

    def update(self, df: pd.DataFrame) -> GlobalForecaster:
        """Re-anchor on newer history without retraining; the interval calibration is kept."""
        if not getattr(self, "is_fitted_", False):
            return self.fit(df)
        self._anchor(sort_series(df))
        return self

    def _series_statics(self, df: pd.DataFrame) -> pd.DataFrame:
        """The hierarchy columns of each series (first row), indexed by sorted series id."""
        return df.groupby(UNIQUE_ID, sort=True)[list(self.static_vocab_)].first()

    def _forecast_frame(
        self, keys: pd.DataFrame, point: np.ndarray, scale: np.ndarray, level: list[int]
    ) -> pd.DataFrame:
        """``unique_id, ds`` of ``keys`` (series-major), the (series, h) point and its bounds."""
        out = keys[[UNIQUE_ID, DS]].reset_index(drop=True)
        out[self.alias] = point.ravel()
        return out.assign(**interval_columns(self.alias, point, scale, self.calibrator_, level))
