"""The known inputs of the days ahead (``feature_store.future``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feature_store.future import future_exogenous
from ml.schema import (
    DS,
    EVENT_NAME_1,
    EVENT_TYPE_1,
    SELL_PRICE,
    SNAP,
    STORE_ID,
    UNIQUE_ID,
    Y,
)


@pytest.fixture
def history() -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=4, freq="D")
    return pd.DataFrame(
        {
            UNIQUE_ID: ["A"] * 4 + ["B"] * 3,
            DS: list(dates) + list(dates[:3]),
            Y: [1.0, 2, 3, 4, 0, 0, 5],
            STORE_ID: ["S1"] * 4 + ["S2"] * 3,
            SELL_PRICE: [2.0, 2.0, 1.0, np.nan, 4.0, 4.0, 3.0],
            SNAP: [0, 1, 0, 0, 0, 0, 1],
            EVENT_NAME_1: [None, "SuperBowl", None, None, None, "Easter", None],
            EVENT_TYPE_1: [None, "Sporting", None, None, None, "Cultural", None],
        }
    )


def test_defaults_hold_the_last_known_price_with_no_snap_or_event(history) -> None:
    future = future_exogenous(history, 2, None)
    assert list(future[UNIQUE_ID]) == ["A", "A", "B", "B"]
    assert list(future[DS].dt.day) == [5, 6, 4, 5]  # each series continues from its own end
    assert list(future[SELL_PRICE]) == [1.0, 1.0, 3.0, 3.0]  # A's last day had no price
    assert (future[SNAP] == 0).all() and future[EVENT_NAME_1].isna().all()


def test_X_df_columns_override_the_defaults(history) -> None:
    x_df = future_exogenous(history, 2, None).assign(**{SNAP: 1})[[UNIQUE_ID, DS, SNAP]]
    x_df[EVENT_NAME_1] = ["Easter", None, None, None]
    future = future_exogenous(history, 2, x_df.iloc[::-1])  # any row order
    assert (future[SNAP] == 1).all()
    assert list(future[EVENT_NAME_1].fillna("-")) == ["Easter", "-", "-", "-"]
    assert list(future[SELL_PRICE]) == [1.0, 1.0, 3.0, 3.0]  # not in X_df: default kept


def test_X_df_without_every_future_day_is_rejected(history) -> None:
    x_df = future_exogenous(history, 2, None).iloc[:3]
    with pytest.raises(ValueError, match="lacks 1 future"):
        future_exogenous(history, 2, x_df)
