"""Reference forecasters the benchmarks score the platform against, behind the project contract.

* :class:`StatsForecastETS` -- statsforecast's AutoETS with a weekly season;
* :class:`MLForecastLightGBM` -- what a data scientist would hand-roll in a notebook: one global
  mlforecast LightGBM (Tweedie; lags 7/14/21/28; rolling means of 7 and 28 days at lags 1, 7 and
  28; day-of-week, month and day features; the hierarchy ids as static categoricals; 500 trees,
  learning rate 0.05, 63 leaves), forecasting recursively.
"""

from __future__ import annotations

import pandas as pd

from ml.models.base import Forecaster
from ml.models.frames import prepare_history
from ml.schema import CAT_ID, DEPT_ID, DS, ITEM_ID, STORE_ID, UNIQUE_ID, Y

STATIC_IDS = [STORE_ID, ITEM_ID, DEPT_ID, CAT_ID]


class StatsForecastETS(Forecaster):
    """statsforecast's AutoETS (weekly season) behind the project contract, for reference."""

    def __init__(self, season_length: int = 7, n_jobs: int = 1, alias: str = "AutoETS"):
        self.season_length = season_length
        self.n_jobs = n_jobs
        self.alias = alias

    def _fit(self, df: pd.DataFrame) -> None:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS

        model = AutoETS(season_length=self.season_length, alias=self.alias)
        self.sf_ = StatsForecast(models=[model], freq="D", n_jobs=self.n_jobs)
        self.sf_.fit(prepare_history(df))

    def _predict(self, h: int, X_df: pd.DataFrame | None, level: list[int]) -> pd.DataFrame:
        out = self.sf_.predict(h=h, level=level or None).reset_index(drop=True)
        value_columns = [c for c in out.columns if c not in (UNIQUE_ID, DS)]
        out[value_columns] = out[value_columns].clip(lower=0.0)
        return out


class MLForecastLightGBM(Forecaster):
    """An off-the-shelf mlforecast + LightGBM global model (point forecasts only)."""

    def __init__(self, n_jobs: int = 1, seed: int = 0, alias: str = "LightGBM"):
        self.n_jobs = n_jobs
        self.seed = seed
        self.alias = alias

    def _fit(self, df: pd.DataFrame) -> None:
        import lightgbm as lgb
        from mlforecast import MLForecast
        from mlforecast.lag_transforms import RollingMean

        model = lgb.LGBMRegressor(
            objective="tweedie",
            n_estimators=500,
            learning_rate=0.05,
            num_leaves=63,
            random_state=self.seed,
            n_jobs=self.n_jobs,
            verbosity=-1,
        )
        rolling = [RollingMean(window_size=7), RollingMean(window_size=28)]
        self.mlf_ = MLForecast(
            models={self.alias: model},
            freq="D",
            lags=[7, 14, 21, 28],
            lag_transforms={1: rolling, 7: rolling, 28: rolling},
            date_features=["dayofweek", "month", "day"],
        )
        self.statics_ = [c for c in STATIC_IDS if c in df.columns]
        frame = df[[UNIQUE_ID, DS, Y, *self.statics_]].copy()
        frame[self.statics_] = frame[self.statics_].astype("category")
        # dropna=False: on a short history (88 days) lag 28's 28-day mean would drop every row;
        # LightGBM routes the missing values itself
        self.mlf_.fit(frame, static_features=self.statics_, dropna=False)

    def _predict(self, h: int, X_df: pd.DataFrame | None, level: list[int]) -> pd.DataFrame:
        out = self.mlf_.predict(h).reset_index(drop=True)
        out[self.alias] = out[self.alias].clip(lower=0.0)
        return out
