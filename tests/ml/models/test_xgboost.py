"""XGBoostForecaster: the forecaster contract, determinism and use of future covariates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models.xgboost import XGBoostForecaster
from ml.schema import (
    CAT_ID,
    DEPT_ID,
    DS,
    EVENT_COLUMNS,
    ITEM_ID,
    SELL_PRICE,
    SNAP,
    STORE_ID,
    UNIQUE_ID,
    Y,
    forecast_columns,
    series_id,
)

H = 7
SMALL = dict(
    horizon=H,
    n_estimators=60,
    max_depth=4,
    calibration_horizon=H,
)


def price_driven_history(n_series: int = 6, n_days: int = 160, seed: int = 0) -> pd.DataFrame:
    """Poisson sales with a weekly pattern whose mean falls steeply with price (elasticity -2).

    Prices jump between three levels every two weeks, so the history shows the price effect.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=n_days, freq="D")
    frames = []
    for i in range(n_series):
        base_price = 2.0 + i
        level = rng.choice([0.8, 1.0, 1.25], size=n_days // 14 + 1).repeat(14)[:n_days]
        price = base_price * level
        weekly = 1.0 + 0.3 * (dates.dayofweek >= 5)
        mean = (4.0 + 2 * i) * weekly * level**-2.0
        store, item = f"S_{i % 2}", f"FOODS_1_{i:03d}"
        frame = pd.DataFrame({DS: dates, Y: rng.poisson(mean).astype("float64")})
        frame[UNIQUE_ID] = series_id(store, item)
        frame[STORE_ID], frame[ITEM_ID], frame[DEPT_ID], frame[CAT_ID] = store, item, "F1", "F"
        frame[SELL_PRICE] = price
        frame[SNAP] = (dates.day <= 10).astype("int8")
        for column in EVENT_COLUMNS:
            frame[column] = None
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def future_rows(history: pd.DataFrame, h: int, price_factor: float = 1.0) -> pd.DataFrame:
    """Known future covariates: last price times ``price_factor``, snap by day, no events."""
    last = history.sort_values(DS).groupby(UNIQUE_ID).tail(1)
    rows = []
    for _, row in last.iterrows():
        dates = pd.date_range(row[DS] + pd.Timedelta(days=1), periods=h, freq="D")
        rows.append(
            pd.DataFrame(
                {
                    UNIQUE_ID: row[UNIQUE_ID],
                    DS: dates,
                    SELL_PRICE: row[SELL_PRICE] * price_factor,
                    SNAP: (dates.day <= 10).astype("int8"),
                }
            )
        )
    return pd.concat(rows, ignore_index=True).assign(**dict.fromkeys(EVENT_COLUMNS))


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return price_driven_history()


@pytest.fixture(scope="module")
def fitted(history: pd.DataFrame) -> XGBoostForecaster:
    return XGBoostForecaster(**SMALL).fit(history)


def test_forecast_frame_follows_the_contract(fitted: XGBoostForecaster) -> None:
    forecast = fitted.predict(H, level=[95, 80])
    alias = fitted.alias
    assert list(forecast.columns) == [UNIQUE_ID, DS, *forecast_columns(alias, (80, 95))]
    assert forecast.groupby(UNIQUE_ID).size().eq(H).all()
    assert forecast[UNIQUE_ID].nunique() == 6
    assert (forecast[alias] >= 0).all()
    lo80, hi80 = forecast[f"{alias}-lo-80"], forecast[f"{alias}-hi-80"]
    lo95, hi95 = forecast[f"{alias}-lo-95"], forecast[f"{alias}-hi-95"]
    assert (lo95 <= lo80).all() and (lo80 <= forecast[alias]).all()
    assert (forecast[alias] <= hi80).all() and (hi80 <= hi95).all()
    assert (hi95 > lo95).any(), "calibrated intervals must have width"
    assert (lo95 >= 0).all()


def test_forecast_dates_follow_each_series(fitted: XGBoostForecaster, history) -> None:
    forecast = fitted.predict(3)
    first = forecast.groupby(UNIQUE_ID)[DS].min()
    last_seen = history.groupby(UNIQUE_ID)[DS].max()
    assert (first == last_seen + pd.Timedelta(days=1)).all()


def test_same_seed_gives_identical_forecasts(history: pd.DataFrame) -> None:
    first = XGBoostForecaster(**SMALL, seed=3).fit(history).predict(H, level=[80])
    second = XGBoostForecaster(**SMALL, seed=3).fit(history).predict(H, level=[80])
    pd.testing.assert_frame_equal(first, second)


def test_higher_future_price_lowers_the_forecast(fitted, history) -> None:
    cheap = fitted.predict(H, X_df=future_rows(history, H, price_factor=0.8))
    dear = fitted.predict(H, X_df=future_rows(history, H, price_factor=1.25))
    cheap_total = cheap.groupby(UNIQUE_ID)[fitted.alias].sum()
    dear_total = dear.groupby(UNIQUE_ID)[fitted.alias].sum()
    assert (cheap_total > dear_total).all(), cheap_total - dear_total


def test_without_X_df_the_last_price_is_held_flat(fitted, history) -> None:
    plain = future_rows(history, H).assign(**{SNAP: 0})
    pd.testing.assert_frame_equal(fitted.predict(H), fitted.predict(H, X_df=plain))


def test_X_df_missing_future_days_is_an_error(fitted, history) -> None:
    partial = future_rows(history, H).groupby(UNIQUE_ID).head(H - 1)
    with pytest.raises(ValueError, match="X_df lacks"):
        fitted.predict(H, X_df=partial)


def test_forecasts_beyond_the_calibrated_horizon(fitted: XGBoostForecaster) -> None:
    forecast = fitted.predict(2 * H, level=[80])
    assert len(forecast) == 6 * 2 * H
    assert forecast[f"{fitted.alias}-hi-80"].notna().all()


def test_refit_after_calibration_off_still_forecasts(history: pd.DataFrame) -> None:
    model = XGBoostForecaster(**SMALL, refit_after_calibration=False).fit(history)
    forecast = model.predict(H, level=[80])
    assert model.training_sample_[DS].max() <= history[DS].max() - pd.Timedelta(days=H)
    assert forecast[model.alias].between(0, history[Y].max() * 3).all()


def test_history_too_short_to_calibrate_gives_point_intervals(history) -> None:
    short = history.groupby(UNIQUE_ID).tail(20)
    model = XGBoostForecaster(**SMALL).fit(short)
    forecast = model.predict(H, level=[80])
    assert model.calibrator_ is None
    assert (forecast[f"{model.alias}-lo-80"] == forecast[model.alias]).all()


def test_bare_frame_without_covariates(history: pd.DataFrame) -> None:
    """Only ``unique_id, ds, y``: no prices, calendar or hierarchy, still a full forecast."""
    bare = history[[UNIQUE_ID, DS, Y]]
    forecast = XGBoostForecaster(**SMALL).fit(bare).predict(H, level=[80])
    assert len(forecast) == 6 * H
    assert (forecast["XGBoost-hi-80"] >= forecast["XGBoost"]).all()


def m5_holdout_scores(m5_dir, model) -> pd.Series:
    """Mean RMSSE and 95% coverage of ``model`` and seasonal naive on the CA_1 FOODS_1 items
    (216 series, 88 training days, the last 28 days held out)."""
    from testkit.m5 import load_m5_sales_history

    from ml.evaluation.metrics import evaluate_forecasts
    from ml.models.seasonal_naive import SeasonalNaive
    from ml.schema import CUTOFF

    history = load_m5_sales_history(m5_dir, "short")
    history = history[history[DEPT_ID] == "FOODS_1"]
    cutoff = history[DS].max() - pd.Timedelta(days=28)
    train, test = history[history[DS] <= cutoff], history[history[DS] > cutoff]
    scored = test[[UNIQUE_ID, DS, Y]].assign(**{CUTOFF: cutoff})
    for forecaster in (SeasonalNaive(), model):
        forecast = forecaster.fit(train).predict(28, X_df=test.drop(columns=[Y]), level=[95])
        scored = scored.merge(forecast, on=[UNIQUE_ID, DS])
    summary = evaluate_forecasts(scored, train, ["SeasonalNaive", model.alias], [95]).summary()
    return summary[["rmsse", "coverage_95"]]


@pytest.mark.slow
@pytest.mark.m5
def test_beats_seasonal_naive_on_real_m5_items(m5_dir) -> None:
    scores = m5_holdout_scores(m5_dir, XGBoostForecaster(n_estimators=100, max_depth=6))
    assert scores.loc["XGBoost", "rmsse"] < 0.9 * scores.loc["SeasonalNaive", "rmsse"], scores
    assert 0.85 <= scores.loc["XGBoost", "coverage_95"] <= 1.0, scores


@pytest.mark.parametrize("refit", [True, False])
def test_a_newcomer_series_does_not_stop_calibration(history, refit: bool) -> None:
    """Series too short to spare calibration days are left out of calibration only."""
    newcomer = history[history[UNIQUE_ID] == history[UNIQUE_ID].iloc[0]].tail(10)
    newcomer = newcomer.assign(**{UNIQUE_ID: "S_0__NEW", ITEM_ID: "NEW"})
    model = XGBoostForecaster(**SMALL, refit_after_calibration=refit)
    forecast = model.fit(pd.concat([history, newcomer])).predict(H, level=[80])
    assert model.calibrator_ is not None and model.calibrator_.scores.shape == (6, H)
    new = forecast[forecast[UNIQUE_ID] == "S_0__NEW"]
    assert len(new) == H and (new["XGBoost-hi-80"] > new["XGBoost-lo-80"]).all()
