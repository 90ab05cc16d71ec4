"""Prophet per series: events as holidays, yearly seasonality only with two years of history."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.prophet import HOLIDAY, Prophet, holiday_frame
from ml.schema import DS, EVENT_NAME_1, EVENT_NAME_2, UNIQUE_ID, Y


def with_event(n_days: int = 84, start: str = "2024-01-01") -> pd.DataFrame:
    """Demand around 5 that jumps to 25 on every 'Promo' day (every 10th day).

    A little noise keeps Stan's optimiser quick (an exact fit drives sigma to 0 and slows it).
    """
    days = pd.date_range(start, periods=n_days)
    promo = np.arange(n_days) % 10 == 3
    noise = np.random.default_rng(0).normal(0, 0.5, n_days)
    return pd.DataFrame(
        {
            UNIQUE_ID: "a",
            DS: days,
            Y: np.where(promo, 25.0, 5.0) + noise,
            EVENT_NAME_1: np.where(promo, "Promo", None),
            EVENT_NAME_2: None,
        }
    )


def test_holiday_frame_collects_both_event_columns():
    frame = pd.DataFrame(
        {
            DS: pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02"]),
            EVENT_NAME_1: ["NewYear", None, None],
            EVENT_NAME_2: [None, "Sale", "Sale"],
        }
    )
    holidays = holiday_frame(frame)
    assert holidays.to_dict("list") == {
        HOLIDAY: ["NewYear", "Sale"],
        DS: list(pd.to_datetime(["2024-01-01", "2024-01-02"])),
    }
    assert holiday_frame(None).empty


def test_future_events_from_x_df_move_the_forecast():
    frame = with_event()
    train, test = frame.iloc[:-10], frame.iloc[-10:]
    model = Prophet(n_workers=1).fit(train)
    forecast = model.predict(10, X_df=test.drop(columns=[Y]))
    promo_days = test[EVENT_NAME_1].notna().to_numpy()
    assert promo_days.sum() == 1
    assert forecast["Prophet"][promo_days].item() > 20
    assert forecast["Prophet"][~promo_days].max() < 10
    without = model.predict(10)  # no future calendar: no event effect
    assert without["Prophet"].max() < 10


def test_yearly_seasonality_only_with_two_years_and_native_intervals():
    short = Prophet(n_workers=1).fit(with_event(200))
    assert short.models_["a"]["model"].yearly_seasonality is False
    long = Prophet(n_workers=1, interval_method="native", uncertainty_samples=50)
    long.fit(with_event(740, start="2022-01-01"))
    assert long.models_["a"]["model"].yearly_seasonality is True
    forecast = long.predict(5, level=[80])
    assert (forecast["Prophet-lo-80"] <= forecast["Prophet"]).all()
    assert (forecast["Prophet-hi-80"] > forecast["Prophet-lo-80"]).all()
