"""Rolling-origin cross-validation, checked with a toy model whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.evaluation.backtest import cross_validation, window_cutoffs
from ml.models.base import Forecaster
from ml.models.frames import future_frame, last_dates, prepare_history
from ml.schema import CUTOFF, DS, SELL_PRICE, UNIQUE_ID, Y

START = pd.Timestamp("2024-01-01")


class LastValue(Forecaster):
    """Toy model: repeats the last training value; interval +/- the level in units."""

    alias = "Last"

    def __init__(self, record: list | None = None):
        self.record = record

    def _fit(self, df):
        self._anchor(df)
        if self.record is not None:
            self.record.append(("fit", df[DS].max()))

    def _anchor(self, df):
        history = prepare_history(df)
        self.last_ds_ = last_dates(history)
        self.last_y_ = history.groupby(UNIQUE_ID, sort=True)[Y].last()

    def _predict(self, h, X_df, level):
        if self.record is not None:
            self.record.append(("X_df", None if X_df is None else X_df.copy()))
        out = future_frame(self.last_ds_, h)
        out[self.alias] = np.repeat(self.last_y_.to_numpy(), h)
        for lv in level:
            out[f"Last-lo-{lv}"] = out[self.alias] - lv
            out[f"Last-hi-{lv}"] = out[self.alias] + lv
        return out


class UpdatableLastValue(LastValue):
    def update(self, df):
        self.record.append(("update", df[DS].max()))
        self._anchor(df)
        return self


def panel(n_days: int = 20) -> pd.DataFrame:
    """Two series, y = day index (series a) and 100 + day index (series b)."""
    days = pd.date_range(START, periods=n_days)
    return pd.DataFrame(
        {
            UNIQUE_ID: np.repeat(["a", "b"], n_days),
            DS: np.tile(days, 2),
            Y: np.concatenate([np.arange(n_days), 100 + np.arange(n_days)]).astype(float),
            SELL_PRICE: 2.5,
        }
    )


def test_window_cutoffs_end_the_last_window_on_the_last_date():
    last = pd.Timestamp("2024-01-20")
    cutoffs = window_cutoffs(last, h=3, n_windows=3, step_size=2)
    assert cutoffs == [pd.Timestamp(d) for d in ("2024-01-13", "2024-01-15", "2024-01-17")]
    with pytest.raises(ValueError):
        window_cutoffs(last, h=0, n_windows=1, step_size=1)


def test_cross_validation_with_a_toy_model_gives_the_known_answer():
    cv = cross_validation(LastValue(), panel(), h=3, n_windows=3, step_size=2, level=[80])
    assert list(cv.columns) == [UNIQUE_ID, DS, CUTOFF, Y, "Last", "Last-lo-80", "Last-hi-80"]
    assert len(cv) == 2 * 3 * 3
    assert cv[CUTOFF].nunique() == 3
    # the forecast is the value on the cutoff day: day index of the cutoff (+100 for b)
    day_of_cutoff = (cv[CUTOFF] - START).dt.days.astype(float)
    expected = day_of_cutoff + np.where(cv[UNIQUE_ID] == "b", 100.0, 0.0)
    np.testing.assert_array_equal(cv["Last"], expected)
    # actuals are the true values of the window: y - forecast = steps ahead (1, 2, 3)
    steps = (cv[DS] - cv[CUTOFF]).dt.days
    np.testing.assert_array_equal(cv[Y] - cv["Last"], steps)
    assert set(steps) == {1, 2, 3}
    np.testing.assert_array_equal(cv["Last-hi-80"] - cv["Last"], 80.0)


def test_models_never_see_the_target_of_their_window_but_get_future_exogenous():
    record: list = []
    cross_validation(LastValue(record), panel(), h=3, n_windows=2, step_size=3)
    fits = [value for kind, value in record if kind == "fit"]
    assert fits == [pd.Timestamp("2024-01-14"), pd.Timestamp("2024-01-17")]
    x_frames = [value for kind, value in record if kind == "X_df"]
    assert all(Y not in x.columns and SELL_PRICE in x.columns for x in x_frames)
    assert x_frames[0][DS].min() == pd.Timestamp("2024-01-15")
    assert len(x_frames[0]) == 2 * 3


def test_refit_false_fits_once_then_updates():
    record: list = []
    factory = lambda: UpdatableLastValue(record)  # noqa: E731
    cv = cross_validation(factory, panel(), h=2, n_windows=3, step_size=2, refit=False)
    kinds = [kind for kind, _ in record if kind != "X_df"]
    assert kinds == ["fit", "update", "update"]
    assert cv.groupby(CUTOFF)["Last"].size().tolist() == [4, 4, 4]
    day_of_cutoff = (cv[CUTOFF] - START).dt.days.astype(float)  # updates re-anchor the forecast
    np.testing.assert_array_equal(
        cv["Last"], day_of_cutoff + np.where(cv[UNIQUE_ID] == "b", 100, 0)
    )
    record.clear()
    cross_validation(factory, panel(), h=2, n_windows=4, step_size=1, refit=2)
    assert [kind for kind, _ in record if kind != "X_df"] == ["fit", "update", "fit", "update"]


def test_refit_false_without_update_is_a_clear_error():
    with pytest.raises(TypeError, match="no update"):
        cross_validation(LastValue(), panel(), h=2, n_windows=2, refit=False)


def test_a_model_instance_is_cloned_not_mutated():
    model = LastValue()
    cross_validation(model, panel(), h=2, n_windows=1)
    assert not getattr(model, "is_fitted_", False)


def test_window_before_the_data_is_an_error():
    with pytest.raises(ValueError, match="no data"):
        cross_validation(LastValue(), panel(5), h=3, n_windows=3, step_size=3)
