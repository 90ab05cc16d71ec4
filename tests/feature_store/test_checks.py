"""The check functions behind the asset checks: missing values and leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feature_store import definitions as d
from feature_store.build import build_features
from feature_store.checks import FEATURE, VIOLATIONS, find_leakage, find_missing
from ml.schema import DS, SELL_PRICE, UNIQUE_ID, Y


@pytest.fixture
def table(mixed_history) -> pd.DataFrame:
    return build_features(mixed_history)


def test_a_fresh_table_has_no_missing_values(table) -> None:
    assert find_missing(table).empty


def test_missing_values_are_reported_only_where_a_feature_must_be_defined(table) -> None:
    broken = table.copy()
    first_day = broken.groupby(UNIQUE_ID)[DS].transform("min")
    position = (broken[DS] - first_day).dt.days
    late = broken.index[position == 30][0]
    early = broken.index[position == 3][0]
    priced = broken.index[broken[SELL_PRICE].notna()][40]
    broken.loc[[late, early], d.lag_name(7)] = np.nan  # early: still warming up, fine
    broken.loc[priced, d.DISCOUNT_DEPTH] = np.inf
    report = find_missing(broken).set_index(FEATURE)
    assert report[VIOLATIONS].to_dict() == {d.lag_name(7): 1, d.DISCOUNT_DEPTH: 1}
    assert report.loc[d.lag_name(7), UNIQUE_ID] == broken.loc[late, UNIQUE_ID]


def test_no_leakage_found_in_a_correct_table(mixed_history, table) -> None:
    cutoffs = ["2016-02-20", "2016-05-03"]
    assert find_leakage(mixed_history, table, cutoffs).empty


def test_a_feature_that_peeks_ahead_is_caught(mixed_history, table) -> None:
    leaky = table.copy()
    name = d.rolling_name("mean", 7)
    centred = leaky.groupby(UNIQUE_ID)[Y].transform(lambda y: y.rolling(7, center=True).mean())
    leaky[name] = centred.astype("float32")
    found = find_leakage(mixed_history, leaky, ["2016-03-15"])
    assert set(found[FEATURE]) == {name}
    assert (found[DS] <= pd.Timestamp("2016-03-16")).all() and len(found) > 100


def test_sampled_check_widens_to_the_department(mixed_history, table) -> None:
    leaky = table.copy()
    other = leaky[UNIQUE_ID] == "CA_1__FOODS_1_002"
    leaky.loc[other, d.PRICE_RATIO_DEPT] = 9.0  # corrupt only the sampled item's neighbour
    found = find_leakage(mixed_history, leaky, ["2016-03-15"], ids=["CA_1__FOODS_1_001"])
    assert set(found[UNIQUE_ID]) == {"CA_1__FOODS_1_002"}
    untouched = find_leakage(mixed_history, leaky, ["2016-03-15"], ids=["CA_1__HOBBIES_1_001"])
    assert untouched.empty


@pytest.mark.m5
@pytest.mark.slow
def test_real_m5_features_have_no_leakage_or_gaps(m5_dir) -> None:
    from testkit.m5 import load_m5_sales_history

    history = load_m5_sales_history(m5_dir, "long")
    table = build_features(history)
    assert find_missing(table).empty
    ids = ["CA_1__FOODS_3_586", "WI_2__HOBBIES_1_115", "TX_3__HOUSEHOLD_2_448"]
    cutoffs = ["2012-03-01", "2015-11-28"]
    assert find_leakage(history, table, cutoffs, ids=ids).empty


def test_a_state_feature_leaking_only_on_the_anchor_day_is_caught(mixed_history):
    """The day after a cutoff is where a forecast starts: its lags must be what was known at
    the cutoff. A leak planted only there is found."""
    from feature_store import definitions as d
    from feature_store.build import build_features
    from feature_store.checks import FEATURE, find_leakage

    table = build_features(mixed_history)
    cutoff = pd.Timestamp("2016-03-15")
    anchor = table[DS] == cutoff + pd.Timedelta(days=1)
    leaky = table.copy()
    leaky.loc[anchor, d.lag_name(1)] = leaky.loc[anchor, d.lag_name(1)] + 5.0
    found = find_leakage(mixed_history, leaky, [cutoff])
    assert set(found[FEATURE]) == {d.lag_name(1)}
    assert set(found[DS]) == {cutoff + pd.Timedelta(days=1)}
