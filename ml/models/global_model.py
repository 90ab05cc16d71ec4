"""Base of the global models (XGBoost, LSTM): one model over all series, fed by the feature store.

Both read their inputs from the offline feature table (the one the ``features`` asset wrote and
checked, or the same transforms over the history they are given), keep the history their
forecasts start from, re-anchor on newer history without retraining, and answer with the same
frame: the point and the conformal bounds of their calibrator. Subclasses train
(``_fit_sorted``) and re-anchor (``_anchor``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feature_store.build import build_features
from ml.models.base import Forecaster
from ml.models.intervals import ConformalCalibrator, interval_columns
from ml.schema import DS, SALES_HISTORY_COLUMNS, UNIQUE_ID


def forecast_origin(df: pd.DataFrame) -> pd.DataFrame:
    """The history a global model keeps to build its forecast rows from: the sales-history
    columns ``df`` has (the feature transforms read nothing else)."""
    return df[[c for c in SALES_HISTORY_COLUMNS if c in df.columns]]


def sort_series(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` by series and date on a fresh positional index (the order the arrays assume)."""
    return df.sort_values([UNIQUE_ID, DS], kind="stable").reset_index(drop=True)


class GlobalForecaster(Forecaster):
    """Shared fit/update/output of the global models; see the module docstring for the hooks."""

    calibrator_: ConformalCalibrator | None
    holiday_country: str

    # -- the feature store -----------------------------------------------------------------
    def use_feature_table(self, table: pd.DataFrame | None) -> GlobalForecaster:
        """Train from this offline feature table (``feature_store.build_features`` of a history
        covering every series and day the model is fitted on) instead of rebuilding it.

        The table is point-in-time (each row uses only earlier sales, tested), so its rows up to
        a training history's last day equal a rebuild from that history: the backtest windows
        and the final fit all read the one table the ``features`` asset wrote and checked. It is
        not pickled with the model.
        """
        self._feature_table = table
        return self

    def feature_table(self, df: pd.DataFrame) -> pd.DataFrame:
        """The feature rows of ``df``'s series up to its last day: from the attached table when
        it covers them, else built from ``df``."""
        table = getattr(self, "_feature_table", None)
        if table is not None:
            rows = table[
                table[UNIQUE_ID].isin(df[UNIQUE_ID].unique()) & (table[DS] <= df[DS].max())
            ]
            covered = rows.groupby(UNIQUE_ID, sort=True)[DS].max()
            needed = df.groupby(UNIQUE_ID, sort=True)[DS].max()
            if covered.reindex(needed.index).eq(needed).all():
                return rows.reset_index(drop=True)
        return build_features(df, self.holiday_country)

    def __getstate__(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "_feature_table"}

    # -- hooks ---------------------------------------------------------------------------------
    def _fit_sorted(self, df: pd.DataFrame) -> None:
        """Train on the sorted history once the covariate vocabularies are known."""
        raise NotImplementedError

    def _anchor(self, df: pd.DataFrame) -> None:
        """Take the (sorted) history that forecasts start from, without retraining."""
        raise NotImplementedError

    # -- machinery -----------------------------------------------------------------------------
    def _fit(self, df: pd.DataFrame) -> None:
        self._fit_sorted(sort_series(df))

    def update(self, df: pd.DataFrame) -> GlobalForecaster:
        """Re-anchor on newer history without retraining; the interval calibration is kept."""
        if not getattr(self, "is_fitted_", False):
            return self.fit(df)
        self._anchor(sort_series(df))
        return self

    def _forecast_frame(
        self, keys: pd.DataFrame, point: np.ndarray, scale: np.ndarray, level: list[int]
    ) -> pd.DataFrame:
        """``unique_id, ds`` of ``keys`` (series-major), the (series, h) point and its bounds."""
        out = keys[[UNIQUE_ID, DS]].reset_index(drop=True)
        out[self.alias] = point.ravel()
        return out.assign(**interval_columns(self.alias, point, scale, self.calibrator_, level))
