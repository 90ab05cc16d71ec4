"""Future covariates and covariate features of the global models (``ml.models.covariates``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models.covariates import (
    covariate_features,
    event_vocabulary,
    future_exogenous,
    reference_prices,
    static_codes,
    static_vocabulary,
)
from ml.schema import (
    DEPT_ID,
    DS,
    EVENT_NAME_1,
    EVENT_TYPE_1,
    EVENT_TYPE_2,
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


def test_covariate_features(history) -> None:
    features = covariate_features(history, reference_prices(history), event_vocabulary(history))
    assert event_vocabulary(history) == ["Easter", "SuperBowl"]
    np.testing.assert_allclose(features["price_ratio"].iloc[:3], [1.2, 1.2, 0.6])
    assert list(features["on_sale"]) == [1, 1, 1, 0, 1, 1, 1]
    assert list(features["is_event"]) == [0, 1, 0, 0, 0, 1, 0]
    assert list(features["event_code"]) == [0, 2, 0, 0, 0, 1, 0]
    assert list(features["event_sporting"]) == [0, 1, 0, 0, 0, 0, 0]
    assert list(features["event_cultural"]) == [0, 0, 0, 0, 0, 1, 0]


def test_covariate_features_read_missing_columns_as_no_information(history) -> None:
    bare = history[[UNIQUE_ID, DS]].assign(**{EVENT_TYPE_2: "National"})
    features = covariate_features(bare, pd.Series(dtype="float64"), [])
    assert features[SELL_PRICE].isna().all() and (features["on_sale"] == 0).all()
    assert (features[SNAP] == 0).all() and (features["event_national"] == 1).all()
    assert (features["is_event"] == 1).all()


def test_static_codes_use_the_fit_vocabulary(history) -> None:
    vocab = static_vocabulary(history)
    assert vocab == {STORE_ID: ["S1", "S2"]}
    codes = static_codes(pd.DataFrame({STORE_ID: ["S2", "S9", None], DEPT_ID: "x"}), vocab)
    assert list(codes.columns) == [f"{STORE_ID}_code"]
    assert list(codes[f"{STORE_ID}_code"]) == [1, -1, -1]
