"""XGBoost: one global gradient-boosted model over every series (via mlforecast).

One ``XGBRegressor`` with a count-friendly Tweedie objective learns from all series at once:
lags and rolling statistics of the target, calendar features, price features (price, ratio to
the series' mean price, on-sale flag), SNAP, events and the static hierarchy codes. It forecasts
recursively (mlforecast feeds each day's forecast back as the next day's lag).

Prediction intervals are split-conformal by horizon step (see ``ml.models.intervals``): the
model is first fitted without the last ``calibration_horizon`` days, its errors on those days
become scaled calibration scores, then it is refitted on everything.

Future covariates come from ``X_df`` (``unique_id, ds, sell_price, snap, event_*``); without it
the last known price is held flat and snap/events are assumed absent
(``ml.models.covariates.future_exogenous``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ml.models.covariates import (
    COVARIATE_COLUMNS,
    covariate_features,
    future_exogenous,
    static_codes,
)
from ml.models.global_model import GlobalForecaster, price_history
from ml.models.intervals import SCALE_DAYS, ConformalCalibrator, series_scale_from_moves
from ml.schema import DS, UNIQUE_ID, Y

logger = logging.getLogger(__name__)

DATE_FEATURES = ["dayofweek", "day", "month", "dayofyear"]


class XGBoostForecaster(GlobalForecaster):
    """Global recursive XGBoost over all series with calendar, price and event covariates."""

    alias = "XGBoost"

    def __init__(
        self,
        lags: Sequence[int] = (1, 2, 3, 4, 5, 6, 7, 14, 21, 28),
        rolling_lags: Sequence[int] = (1, 7, 28),
        rolling_windows: Sequence[int] = (7, 28),
        objective: str = "reg:tweedie",
        tweedie_variance_power: float = 1.2,
        n_estimators: int = 400,
        learning_rate: float = 0.05,
        max_depth: int = 8,
        min_child_weight: float = 1.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        train_window: int | None = None,
        calibration_horizon: int = 28,
        refit_after_calibration: bool = True,
        seed: int = 0,
        n_jobs: int = 1,
        alias: str = "XGBoost",
    ) -> None:
        self.lags = lags
        self.rolling_lags = rolling_lags
        self.rolling_windows = rolling_windows
        self.objective = objective
        self.tweedie_variance_power = tweedie_variance_power
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.train_window = train_window
        self.calibration_horizon = calibration_horizon
        self.refit_after_calibration = refit_after_calibration
        self.seed = seed
        self.n_jobs = n_jobs
        self.alias = alias

    # -- fit ------------------------------------------------------------------------------
    def _fit_sorted(self, df: pd.DataFrame) -> None:
        self.statics_ = self._series_statics(df)
        self.calibrator_, model = self._calibrate(df)
        if model is None or self.refit_after_calibration:
            self.mlf_ = self._train(df)
            self._keep_origin(df, new_df=None)
        else:  # without a refit the calibration model forecasts from the full history (new_df)
            self.mlf_ = model
            self._keep_origin(df, new_df=self._features(df))

    def _anchor(self, df: pd.DataFrame) -> None:
        """The same trees forecast from the end of ``df`` (its lags feed the recursion)."""
        self.statics_ = self._series_statics(df)
        self._keep_origin(df, new_df=self._features(df))

    def _keep_origin(self, df: pd.DataFrame, new_df: pd.DataFrame | None) -> None:
        """Where forecasts start: the lags to recurse from (``None``: the training data's),
        the prices to extend and the interval scale."""
        self.new_df_ = new_df
        self.history_ = price_history(df)
        self.scale_ = _tail_scale(df)

    def _calibrate(self, df: pd.DataFrame) -> tuple[ConformalCalibrator | None, object]:
        """Fit without the last days of the series long enough to spare them, and score the
        errors there (None when no series is)."""
        horizon = self.calibration_horizon
        if horizon < 1:
            return None, None
        lengths = df.groupby(UNIQUE_ID, sort=False)[DS].transform("size")
        df = df[lengths >= 3 * horizon]
        if df.empty:
            logger.warning("%s: history too short to calibrate intervals", self.alias)
            return None, None
        held_out = df.groupby(UNIQUE_ID, sort=False).cumcount(ascending=False) < horizon
        train, test = df[~held_out], df[held_out]
        model = self._train(train)
        future = test.drop(columns=[Y])
        forecast = _quiet_predict(model, horizon, self._features(future)[self._dynamic_columns()])
        calibrator = ConformalCalibrator.from_errors(
            test[Y].to_numpy().reshape(-1, horizon),
            forecast.sort_values([UNIQUE_ID, DS])[self.alias].to_numpy().reshape(-1, horizon),
            _tail_scale(train).to_numpy(),
        )
        return calibrator, model

    def _train(self, df: pd.DataFrame):
        """An mlforecast pipeline fitted on ``df`` (restricted to ``train_window`` rows)."""
        from mlforecast import MLForecast

        frame = self._features(df)
        mlf = MLForecast(
            models={self.alias: self._regressor()},
            freq="D",
            lags=list(self.lags),
            lag_transforms=self._lag_transforms(),
            date_features=DATE_FEATURES,
            num_threads=1,
        )
        features = mlf.preprocess(
            frame, static_features=self._static_columns(), dropna=False, validate_data=False
        )
        if self.train_window is not None:
            recent = features.groupby(UNIQUE_ID, sort=False).cumcount(ascending=False)
            features = features[recent < self.train_window]
        X = features.drop(columns=[UNIQUE_ID, DS, Y])
        mlf.fit_models(X, features[Y].to_numpy())
        return mlf

    def _regressor(self):
        from xgboost import XGBRegressor

        params = dict(
            objective=self.objective,
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            min_child_weight=self.min_child_weight,
            subsample=self.subsample,
            colsample_bytree=self.colsample_bytree,
            tree_method="hist",
            random_state=self.seed,
            n_jobs=self.n_jobs,
        )
        if self.objective == "reg:tweedie":
            params["tweedie_variance_power"] = self.tweedie_variance_power
        return XGBRegressor(**params)

    def _lag_transforms(self) -> dict[int, list]:
        from mlforecast.lag_transforms import RollingMean, RollingStd, SeasonalRollingMean

        windows = sorted(self.rolling_windows)
        transforms: dict[int, list] = {}
        for lag in self.rolling_lags:
            transforms[lag] = [RollingMean(window_size=w) for w in windows]
            transforms[lag].append(RollingStd(window_size=windows[-1]))
        transforms.setdefault(7, []).append(SeasonalRollingMean(season_length=7, window_size=4))
        return transforms

    # -- features -------------------------------------------------------------------------
    def _static_columns(self) -> list[str]:
        return [f"{c}_code" for c in self.static_vocab_]

    def _dynamic_columns(self) -> list[str]:
        return [UNIQUE_ID, DS, *COVARIATE_COLUMNS]

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``unique_id, ds[, y]``, static codes and covariates of ``frame``."""
        keys = frame[[c for c in (UNIQUE_ID, DS, Y) if c in frame.columns]].reset_index(drop=True)
        statics = self.statics_.reindex(keys[UNIQUE_ID]).reset_index(drop=True)
        covariates = covariate_features(keys.assign(**_exog(frame)), self.ref_price_, self.events_)
        return pd.concat([keys, static_codes(statics, self.static_vocab_), covariates], axis=1)

    # -- predict --------------------------------------------------------------------------
    def _predict(self, h: int, X_df: pd.DataFrame | None, level: list[int]) -> pd.DataFrame:
        future = future_exogenous(self.history_, h, X_df)
        features = self._features(future)[self._dynamic_columns()]
        forecast = _quiet_predict(self.mlf_, h, features, new_df=self.new_df_)
        forecast = forecast.sort_values([UNIQUE_ID, DS], kind="stable").reset_index(drop=True)
        point = np.maximum(forecast[self.alias].to_numpy(), 0.0).reshape(-1, h)
        scale = self.scale_.reindex(forecast[UNIQUE_ID].iloc[::h]).to_numpy()
        return self._forecast_frame(forecast, point, scale, level)


def _exog(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The exogenous input columns of ``frame`` on a positional index."""
    skip = {UNIQUE_ID, DS, Y}
    return {c: frame[c].reset_index(drop=True) for c in frame.columns if c not in skip}


def _tail_scale(df: pd.DataFrame) -> pd.Series:
    """Interval scale of each series from its last :data:`SCALE_DAYS` days."""
    tail = df.groupby(UNIQUE_ID, sort=True).tail(SCALE_DAYS)
    moves = tail.groupby(UNIQUE_ID, sort=True)[Y].diff().abs()
    return series_scale_from_moves(moves.groupby(tail[UNIQUE_ID], sort=True).mean())


def _quiet_predict(model, h: int, X_df: pd.DataFrame, new_df: pd.DataFrame | None = None):
    """``model.predict`` without mlforecast's warning about NaN features.

    Lags that reach before a short series' first day are NaN by design (``dropna=False``);
    XGBoost routes missing values down a learned branch.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Found null values", category=UserWarning)
        return model.predict(h, new_df=new_df, X_df=X_df)
