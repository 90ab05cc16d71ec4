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


@pytest.mark.parametrize("h, n_windows, step_size", [(0, 1, 1), (1, 0, 1), (1, 1, 0), (-2, 3, 1)])
def test_each_window_setting_below_one_is_refused_by_name(h, n_windows, step_size):
    message = f"h, n_windows and step_size must be >= 1, got {h}, {n_windows}, {step_size}"
    with pytest.raises(ValueError) as refused:
        window_cutoffs(pd.Timestamp("2024-01-20"), h, n_windows, step_size)
    assert str(refused.value) == message


def test_the_smallest_windows_are_allowed():
    assert window_cutoffs(pd.Timestamp("2024-01-20"), 1, 1, 1) == [pd.Timestamp("2024-01-19")]
    cv = cross_validation(LastValue(), panel(), h=1)  # one window by default
    assert cv[CUTOFF].unique().tolist() == [pd.Timestamp("2024-01-19")]
    assert cv[DS].unique().tolist() == [pd.Timestamp("2024-01-20")]


@pytest.mark.parametrize("refit", [0, -1])
def test_a_refit_period_below_one_is_refused(refit):
    with pytest.raises(ValueError) as refused:
        cross_validation(LastValue(), panel(), h=2, n_windows=2, refit=refit)
    assert str(refused.value) == f"refit must be a bool or an int >= 1, got {refit}"


def test_refit_every_window_as_an_int_fits_each_window():
    record: list = []
    cross_validation(lambda: LastValue(record), panel(), h=2, n_windows=3, refit=1)
    assert [kind for kind, _ in record if kind != "X_df"] == ["fit", "fit", "fit"]


def test_the_missing_update_error_names_the_model():
    with pytest.raises(TypeError) as refused:
        cross_validation(LastValue(), panel(), h=2, n_windows=2, refit=False)
    assert str(refused.value) == "LastValue has no update(df): backtest it with refit=True"


def test_without_exogenous_columns_the_model_gets_no_future_frame():
    record: list = []
    cross_validation(LastValue(record), panel().drop(columns=SELL_PRICE), h=2, n_windows=2)
    assert [value for kind, value in record if kind == "X_df"] == [None, None]


def test_the_future_frame_and_the_result_are_freshly_indexed():
    record: list = []
    cv = cross_validation(LastValue(record), panel(), h=3, n_windows=2, step_size=3)
    assert cv.index.equals(pd.RangeIndex(len(cv)))
    for x_df in (value for kind, value in record if kind == "X_df"):
        assert x_df.index.equals(pd.RangeIndex(len(x_df)))
        assert list(x_df.columns) == [UNIQUE_ID, DS, SELL_PRICE]


class Doubled(LastValue):
    """Answers every row twice: the backtest must refuse it rather than double the actuals."""

    def _predict(self, h, X_df, level):
        once = super()._predict(h, X_df, level)
        return pd.concat([once, once], ignore_index=True)


class Misdated(LastValue):
    """Forecasts the right series on the wrong days (a day late)."""

    def _predict(self, h, X_df, level):
        out = super()._predict(h, X_df, level)
        return out.assign(**{DS: out[DS] + pd.Timedelta(days=1)})


def test_forecasts_join_the_actuals_one_to_one_on_series_and_day():
    with pytest.raises(pd.errors.MergeError):
        cross_validation(Doubled(), panel(), h=2)
    misdated = cross_validation(Misdated(), panel(), h=2)
    assert len(misdated) == 4  # every actual kept, in order
    assert misdated[DS].tolist() == [pd.Timestamp(d) for d in ["2024-01-19", "2024-01-20"] * 2]
    assert misdated["Last"].isna().tolist() == [True, False, True, False]


def test_each_window_is_logged(caplog):
    with caplog.at_level("INFO", logger="ml.evaluation.backtest"):
        cross_validation(LastValue(), panel(), h=2, n_windows=2, step_size=3)
    assert [r.getMessage() for r in caplog.records if r.name == "ml.evaluation.backtest"] == [
        "window 1/2 (cutoff 2024-01-15) done",
        "window 2/2 (cutoff 2024-01-18) done",
    ]
