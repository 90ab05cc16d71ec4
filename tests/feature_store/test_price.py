"""Price features on hand-made price paths: a promotion week, a permanent cut, a gap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feature_store import definitions as d
from feature_store.build import build_features
from ml.schema import DS, SELL_PRICE, UNIQUE_ID, series_id

PROMO, GAP, CUT = ("CA_1", "FOODS_1_001"), ("CA_1", "FOODS_1_002"), ("CA_1", "HOBBIES_1_001")
N = 70


@pytest.fixture
def table(make_history) -> dict[tuple[str, str], pd.DataFrame]:
    promo = np.full(N, 10.0)
    promo[28:35] = 8.0
    gap = np.full(N, 3.0)
    gap[10:20] = np.nan
    cut = np.r_[np.full(30, 10.0), np.full(N - 30, 9.0)]
    history = make_history(
        {key: np.ones(N) for key in (PROMO, GAP, CUT)},
        prices={PROMO: promo, GAP: gap, CUT: cut},
    )
    features = build_features(history)
    out = {}
    for key in (PROMO, GAP, CUT):
        rows = features[features[UNIQUE_ID] == series_id(*key)]
        out[key] = rows.set_index(rows[DS].sub(rows[DS].iloc[0]).dt.days)
    return out


def test_promotion_week(table) -> None:
    rows = table[PROMO]
    assert rows.loc[28, d.PRICE_CHANGE_1W] == pytest.approx(-0.2)
    assert rows.loc[35, d.PRICE_CHANGE_1W] == pytest.approx(0.25)
    assert rows.loc[0, d.PRICE_CHANGE_1W] == 0.0 and rows.loc[20, d.PRICE_CHANGE_1W] == 0.0
    assert rows.loc[28:34, d.DISCOUNT_DEPTH].to_numpy() == pytest.approx(np.full(7, 0.2))
    assert rows.loc[28:34, d.ON_PROMOTION].tolist() == [1] * 7
    assert rows.loc[[27, 35, 50], d.ON_PROMOTION].tolist() == [0, 0, 0]
    assert rows.loc[35, d.DISCOUNT_DEPTH] == 0.0


def test_reference_price_ratios(table) -> None:
    rows = table[PROMO]
    mean_4w = (27 * 10 + 8) / 28  # days 1..28
    assert rows.loc[28, d.price_mean_ratio_name("4w")] == pytest.approx(8 / mean_4w, rel=1e-6)
    mean_all = (34 * 10 + 7 * 8) / 41  # days 0..40: under a year of history, use what is known
    assert rows.loc[40, d.price_mean_ratio_name("52w")] == pytest.approx(10 / mean_all, rel=1e-6)
    assert rows.loc[0, d.price_mean_ratio_name("4w")] == 1.0


def test_weeks_since_price_change(table) -> None:
    rows = table[PROMO][d.WEEKS_SINCE_PRICE_CHANGE]
    assert rows.loc[[0, 27, 28, 34, 35, 49]].to_numpy() == pytest.approx(
        [0, 27 / 7, 0, 6 / 7, 0, 2], rel=1e-6
    )


def test_permanent_cut_stops_being_a_promotion_after_four_weeks(table) -> None:
    rows = table[CUT]
    assert rows.loc[30, d.DISCOUNT_DEPTH] == pytest.approx(0.1)
    assert rows.loc[57, d.ON_PROMOTION] == 1
    assert rows.loc[30 + d.REGULAR_PRICE_HOLD_DAYS, d.DISCOUNT_DEPTH] == 0.0
    assert rows.loc[30 + d.REGULAR_PRICE_HOLD_DAYS, d.ON_PROMOTION] == 0


def test_days_without_price(table) -> None:
    rows = table[GAP]
    gap = rows.loc[10:19]
    for name in d.feature_names("price"):
        if name == d.ON_PROMOTION:
            assert (gap[name] == 0).all()
        else:
            assert gap[name].isna().all(), name
    # back on sale at the same price: no change, the count runs on from the first price
    assert rows.loc[20, d.PRICE_CHANGE_1W] == 0.0
    assert rows.loc[20, d.WEEKS_SINCE_PRICE_CHANGE] == pytest.approx(20 / 7, rel=1e-6)


def test_department_ratio_compares_within_store_and_department(table) -> None:
    promo, gap, cut = table[PROMO], table[GAP], table[CUT]
    assert promo.loc[5, d.PRICE_RATIO_DEPT] == pytest.approx(10 / 6.5, rel=1e-6)
    assert gap.loc[5, d.PRICE_RATIO_DEPT] == pytest.approx(3 / 6.5, rel=1e-6)
    assert promo.loc[12, d.PRICE_RATIO_DEPT] == 1.0  # the other item has no price that day
    assert (cut[d.PRICE_RATIO_DEPT].dropna() == 1.0).all()  # alone in its department
    assert cut[SELL_PRICE].iloc[-1] == 9.0  # frontier carries the last price
