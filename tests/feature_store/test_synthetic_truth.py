"""The synthetic retailer's known ground truth shows up in the features where it should.

Two seeded data sets: a *controlled* one (no yearly season, trend, promotions or SNAP effect;
strongly different event uplifts, Sporting with none) where the event features must line up
with the generated events and measure their uplift, and a *default-like* one for promotions,
intermittency and weekly seasonality.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feature_store import definitions as d
from feature_store.build import build_features
from ml.data.history import build_sales_history
from ml.schema import (
    DATE,
    DS,
    EVENT_TYPE_1,
    EVENT_TYPE_2,
    ITEM_ID,
    SNAP,
    STORE_ID,
    UNIQUE_ID,
    Y,
    series_id,
    state_of_store,
)
from ml.synthetic import SyntheticConfig, generate

UPLIFT = {"National": 2.0, "Religious": 1.6, "Cultural": 1.3, "Sporting": 1.0}


def _features(config: SyntheticConfig):
    data = generate(config)
    history = build_sales_history(data.sales, data.prices, data.calendar, data.products)
    table = build_features(history)
    truth = data.truth.set_index(series_id(data.truth[STORE_ID], data.truth[ITEM_ID]))
    return data, table[table[Y].notna()].reset_index(drop=True), truth


@pytest.fixture(scope="module")
def controlled():
    config = SyntheticConfig(
        n_stores=3,
        n_items=60,
        seed=42,
        yearly_amplitude_range=(0.0, 0.0),
        trend_sigma=0.0,
        trend_mean=0.0,
        promo_probability=0.0,
        regular_changes_per_year=0.0,
        snap_uplift=1.0,
        event_uplift=tuple(UPLIFT.items()),
    )
    return _features(config)


@pytest.fixture(scope="module")
def default_like():
    return _features(SyntheticConfig(n_stores=2, n_items=40, seed=42, regular_changes_per_year=0.0))


def test_event_flags_are_exactly_the_generated_event_days(controlled) -> None:
    data, table, _ = controlled
    calendar = data.calendar[data.calendar[DATE] <= table[DS].max()]
    for event_type in d.EVENT_TYPES:
        truth_days = calendar.loc[
            (calendar[EVENT_TYPE_1] == event_type) | (calendar[EVENT_TYPE_2] == event_type), DATE
        ]
        flagged = table.loc[table[d.event_type_name(event_type)] == 1, DS]
        assert set(flagged) == set(pd.to_datetime(truth_days)), event_type
        # every series present that day carries the flag
        present = table[DS].value_counts()
        counts = flagged.value_counts()
        assert counts.equals(present.loc[counts.index].rename(counts.name)), event_type


def test_snap_flag_follows_the_store_state(controlled) -> None:
    data, table, _ = controlled
    snap_columns = [c for c in data.calendar.columns if c.startswith("snap_")]
    long = data.calendar.melt(id_vars=[DATE], value_vars=snap_columns, value_name="expected")
    long["state"] = long.pop("variable").str.removeprefix("snap_")
    keyed = pd.DataFrame(
        {DATE: table[DS], "state": state_of_store(table[UNIQUE_ID].str.split("__").str[0])}
    )
    expected = keyed.merge(long, on=[DATE, "state"], how="left")["expected"]
    assert expected.notna().all() and expected.sum() > 0
    np.testing.assert_array_equal(table[SNAP].to_numpy(), expected.to_numpy())


def _uplift(table: pd.DataFrame, days: pd.Series) -> float:
    """Sales on the chosen rows over the same-weekday mean of the four weeks before (a feature).

    Only days whose four baseline weekdays held no event, so the baseline is event-free.
    """
    event_days = set(table.loc[table[d.IS_EVENT] == 1, DS])
    unique_days = pd.Series(table[DS].unique())
    shifted = [unique_days - pd.Timedelta(weeks=k) for k in (1, 2, 3, 4)]
    clean = unique_days[~np.any([s.isin(event_days) for s in shifted], axis=0)]
    baseline = d.weekday_profile_name(7)
    rows = table[days & table[DS].isin(clean) & table[baseline].notna()]
    return rows[Y].sum() / rows[baseline].sum()


def test_event_uplift_shows_up_in_the_event_features(controlled) -> None:
    _, table, _ = controlled
    types = [d.event_type_name(t) for t in d.EVENT_TYPES]
    single = table[types].sum(axis=1) == 1
    measured = {
        t: _uplift(table, single & (table[d.event_type_name(t)] == 1)) for t in d.EVENT_TYPES
    }
    for event_type, true_uplift in UPLIFT.items():
        # Religious has the fewest clean event days (about 2 a year), hence the loosest bound
        assert measured[event_type] == pytest.approx(true_uplift, rel=0.12), measured
    order = sorted(measured, key=measured.get, reverse=True)
    assert order == ["National", "Religious", "Cultural", "Sporting"], measured
    assert _uplift(table, table[d.IS_EVENT] == 0) == pytest.approx(1.0, abs=0.03)


def test_promotion_weeks_match_the_generated_promotions(default_like) -> None:
    _, table, truth = default_like
    weeks = table.groupby(UNIQUE_ID)[d.ON_PROMOTION].sum() / 7
    diff = weeks - truth.loc[weeks.index, "n_promo_weeks"]
    # a promotion running on a series' first days has no earlier price to be measured against,
    # and the truth counts the last partial week whole: at most three weeks short, never over
    assert diff.between(-3.0, 1e-9).all(), diff.describe()
    assert diff.abs().mean() < 1.0
    assert table.loc[table[d.ON_PROMOTION] == 1, d.DISCOUNT_DEPTH].min() >= 0.05


def test_intermittency_and_seasonality_track_the_truth(default_like) -> None:
    _, table, truth = default_like
    last = table.groupby(UNIQUE_ID).tail(1).set_index(UNIQUE_ID)
    joined = last.join(truth[["mean_units", "slow_mover", "weekly_amplitude"]])
    assert joined[d.ZERO_SHARE].corr(joined["mean_units"], method="spearman") < -0.9
    by_speed = joined.groupby("slow_mover")[d.ZERO_SHARE].mean()
    assert by_speed[True] > by_speed[False] + 0.3
    fast = joined[~joined["slow_mover"]]
    rho = fast[d.SEASONALITY_STRENGTH].corr(fast["weekly_amplitude"], method="spearman")
    assert rho > 0.5
