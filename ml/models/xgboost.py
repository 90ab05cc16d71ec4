"""XGBoost: one global, direct multi-horizon model over every series, fed by the feature store.

Its training rows are the feature store's point-in-time join (``feature_store.joins``): for a
sample of forecast origins (cutoffs), every known target day up to ``horizon`` days ahead, with
that day's calendar and price features, the anchor's state features (lags, rolling statistics,
same-weekday profiles, derived statistics, static codes -- all from sales up to the cutoff) and
the step ``horizon``. One ``XGBRegressor`` with a count-friendly Tweedie objective learns them
all (a *direct* model: no forecast is fed back as a lag). A forecast reads the rows
:func:`feature_store.joins.build_forecast_set` builds from the newest history and the known
future inputs (``X_df``) -- the same transforms and the same join as training.

Cutoffs are spread over the last ``train_window_days`` days, every few days (never a multiple of
seven, so every weekday is an origin), as many as ``max_training_rows`` allows.

Prediction intervals are split-conformal by horizon step (see ``ml.models.intervals``): a model
trained on targets up to ``calibration_horizon`` days before the end forecasts those days from
the cutoff before them, its scaled errors become the calibration scores, and the model is then
refitted on everything (or kept, with ``refit_after_calibration=False``: half the cost, the
last days' targets unseen; forecasts still start from the newest state).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from feature_store.calendar import DEFAULT_COUNTRY
from feature_store.definitions import FEATURE_SET_VERSION, MODEL_FEATURES
from feature_store.joins import build_forecast_set, build_training_set
from ml.models.global_model import GlobalForecaster, forecast_origin
from ml.models.intervals import SCALE_DAYS, ConformalCalibrator, series_scale_from_moves
from ml.schema import CUTOFF, DS, UNIQUE_ID, Y

logger = logging.getLogger(__name__)

AUDIT_SERIES, AUDIT_CUTOFFS = 12, 2  # the sample of its training rows a model keeps (leak audit)


class XGBoostForecaster(GlobalForecaster):
    """Global direct XGBoost over all series, trained on the feature store's training rows."""

    alias = "XGBoost"

    def __init__(
        self,
        horizon: int = 28,
        train_window_days: int = 730,
        max_training_rows: int = 300_000,
        objective: str = "reg:tweedie",
        tweedie_variance_power: float = 1.2,
        n_estimators: int = 400,
        learning_rate: float = 0.05,
        max_depth: int = 8,
        min_child_weight: float = 1.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        max_bin: int = 128,
        calibration_horizon: int = 28,
        refit_after_calibration: bool = True,
        holiday_country: str = DEFAULT_COUNTRY,
        seed: int = 0,
        n_jobs: int = 1,
        alias: str = "XGBoost",
    ) -> None:
        self.horizon = horizon
        self.train_window_days = train_window_days
        self.max_training_rows = max_training_rows
        self.objective = objective
        self.tweedie_variance_power = tweedie_variance_power
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.max_bin = max_bin
        self.calibration_horizon = calibration_horizon
        self.refit_after_calibration = refit_after_calibration
        self.holiday_country = holiday_country
        self.seed = seed
        self.n_jobs = n_jobs
        self.alias = alias

    # -- fit ------------------------------------------------------------------------------
    def _fit_sorted(self, df: pd.DataFrame) -> None:
        table = self.feature_table(df)
        last = df[DS].max()
        self.feature_names_ = list(MODEL_FEATURES)
        self.feature_set_version_ = FEATURE_SET_VERSION
        self.calibrator_, model = self._calibrate(df, table, last)
        if model is None or self.refit_after_calibration:
            frame = build_training_set(table, self._cutoffs(df, last), self.horizon)
            model = self._train(frame)
            self.training_sample_ = audit_sample(frame, self.seed)
        self.model_ = model
        self._anchor(df)

    def _anchor(self, df: pd.DataFrame) -> None:
        """Forecasts start from the end of ``df``: its history is what the forecast rows are
        built from; the trees stay as trained."""
        self.history_ = forecast_origin(df)
        self.scale_ = _tail_scale(df)

    def _cutoffs(self, df: pd.DataFrame, last: pd.Timestamp) -> list[pd.Timestamp]:
        """Forecast origins of the training rows: newest first, evenly spaced, within budget."""
        first = df[DS].min()
        window = min((last - first).days - 1, self.train_window_days)
        if window < 1:
            return [last - pd.Timedelta(days=1)]
        per_cutoff = df[UNIQUE_ID].nunique() * self.horizon
        stride = max(1, int(np.ceil(window * per_cutoff / self.max_training_rows)))
        stride += stride % 7 == 0  # a multiple of seven would make every origin the same weekday
        return [last - pd.Timedelta(days=1 + i * stride) for i in range(max(1, window // stride))]

    def _calibrate(self, df: pd.DataFrame, table: pd.DataFrame, last: pd.Timestamp):
        """Train on targets up to ``calibration_horizon`` days before ``last``; score the errors
        of its forecasts of those days (None when no series has all of them and history)."""
        horizon = self.calibration_horizon
        if horizon < 1:
            return None, None
        origin = last - pd.Timedelta(days=horizon)
        known = table[table[DS] <= origin + pd.Timedelta(days=1)]
        cutoffs = self._cutoffs(df[df[DS] <= origin], origin)
        frame = build_training_set(known, cutoffs, self.horizon)
        held_out = build_training_set(table, origin, horizon)
        complete = held_out.groupby(UNIQUE_ID)[Y].transform("size") == horizon
        before = df[df[DS] <= origin].groupby(UNIQUE_ID)[DS].size()
        seasoned = before.index[before >= 2 * horizon]  # enough history to be worth scoring
        held_out = held_out[complete & held_out[UNIQUE_ID].isin(seasoned)]
        if frame.empty or held_out.empty:
            logger.warning("%s: history too short to calibrate intervals", self.alias)
            return None, None
        model = self._train(frame)
        self.training_sample_ = audit_sample(frame, self.seed)
        held_out = held_out.sort_values([UNIQUE_ID, DS])
        calibrator = ConformalCalibrator.from_errors(
            held_out[Y].to_numpy().reshape(-1, horizon),
            self._point(model, held_out).reshape(-1, horizon),
            _tail_scale(df[df[DS] <= origin])
            .reindex(held_out[UNIQUE_ID].iloc[::horizon])
            .to_numpy(),
        )
        return calibrator, model

    def _train(self, frame: pd.DataFrame):
        model = self._regressor()
        model.fit(frame[MODEL_FEATURES], frame[Y].to_numpy())
        logger.info(
            "%s: trained on %d rows, %d cutoffs", self.alias, len(frame), frame[CUTOFF].nunique()
        )
        return model

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
            max_bin=self.max_bin,
            tree_method="hist",
            random_state=self.seed,
            n_jobs=self.n_jobs,
        )
        if self.objective == "reg:tweedie":
            params["tweedie_variance_power"] = self.tweedie_variance_power
        return XGBRegressor(**params)

    def _point(self, model, frame: pd.DataFrame) -> np.ndarray:
        return np.maximum(model.predict(frame[MODEL_FEATURES]), 0.0)

    # -- predict --------------------------------------------------------------------------
    def _predict(self, h: int, X_df: pd.DataFrame | None, level: list[int]) -> pd.DataFrame:
        if not hasattr(self, "model_"):  # pickled by the recursive mlforecast version
            raise RuntimeError(
                f"{self.alias} was trained by RetailIQ's earlier, recursive XGBoost (before it "
                "read the feature store); it cannot forecast new days: retrain the family"
            )
        if h > self.horizon:
            logger.warning("%s: h = %d beyond the trained horizon %d", self.alias, h, self.horizon)
        rows = build_forecast_set(self.history_, h, X_df, self.holiday_country)
        rows = rows.sort_values([UNIQUE_ID, DS], kind="stable").reset_index(drop=True)
        point = self._point(self.model_, rows).reshape(-1, h)
        scale = self.scale_.reindex(rows[UNIQUE_ID].iloc[::h]).to_numpy()
        return self._forecast_frame(rows, point, scale, level)


def audit_sample(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """A few series' rows at a few cutoffs of a training frame, exactly as the model got them:
    what the leakage audit recomputes (``feature_store.checks.find_training_leakage``)."""
    rng = np.random.default_rng(seed)
    cutoffs = frame[CUTOFF].unique()
    ids = frame[UNIQUE_ID].unique()
    picked_cutoffs = rng.choice(cutoffs, min(AUDIT_CUTOFFS, len(cutoffs)), replace=False)
    picked_ids = rng.choice(ids, min(AUDIT_SERIES, len(ids)), replace=False)
    chosen = frame[CUTOFF].isin(picked_cutoffs) & frame[UNIQUE_ID].isin(picked_ids)
    return frame[chosen].reset_index(drop=True)


def _tail_scale(df: pd.DataFrame) -> pd.Series:
    """Interval scale of each series from its last :data:`SCALE_DAYS` days."""
    tail = df.groupby(UNIQUE_ID, sort=True).tail(SCALE_DAYS)
    moves = tail.groupby(UNIQUE_ID, sort=True)[Y].diff().abs()
    return series_scale_from_moves(moves.groupby(tail[UNIQUE_ID], sort=True).mean())
