"""The feature table and its point-in-time joins: no leakage at any cutoff or horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feature_store import definitions as d
from feature_store.build import (
    FEATURE_COLUMNS,
    KEY_COLUMNS,
    ONLINE_COLUMNS,
    build_features,
    online_state,
)
from feature_store.joins import build_forecast_set, build_training_set
from ml.schema import CUTOFF, DS, SELL_PRICE, SNAP, UNIQUE_ID, Y

DAY = pd.Timedelta(days=1)


def _random_cutoffs(history: pd.DataFrame, n: int, seed: int) -> list[pd.Timestamp]:
    days = np.sort(history[DS].unique())[1:-1]
    return [pd.Timestamp(c) for c in np.random.default_rng(seed).choice(days, n, replace=False)]


def test_features_from_truncated_history_equal_stored_features(mixed_history) -> None:
    """The issue's leakage test: every feature, several random cutoffs."""
    stored = build_features(mixed_history)
    for cutoff in _random_cutoffs(mixed_history, 8, seed=11):
        truncated = build_features(mixed_history[mixed_history[DS] <= cutoff])
        old = stored[stored[DS] <= cutoff].reset_index(drop=True)
        new = truncated[truncated[DS] <= cutoff].reset_index(drop=True)
        pd.testing.assert_frame_equal(old, new, check_exact=False, rtol=1e-6)
        anchor_old = stored.loc[stored[DS] == cutoff + DAY, [UNIQUE_ID, *d.STATE_FEATURES]]
        anchor_new = truncated.loc[truncated[DS] == cutoff + DAY, [UNIQUE_ID, *d.STATE_FEATURES]]
        assert len(anchor_new) == mixed_history[mixed_history[DS] <= cutoff][UNIQUE_ID].nunique()
        pd.testing.assert_frame_equal(
            anchor_old.reset_index(drop=True),
            anchor_new.reset_index(drop=True),
            check_exact=False,
            rtol=1e-6,
        )


def test_training_features_ignore_every_sale_after_the_cutoff(mixed_history) -> None:
    """Scrambling all sales after the cutoff changes targets only, at every horizon up to 28."""
    cutoff = pd.Timestamp("2016-04-20")
    scrambled = mixed_history.copy()
    after = scrambled[DS] > cutoff
    scrambled.loc[after, Y] = np.random.default_rng(0).poisson(50, int(after.sum()))
    clean = build_training_set(build_features(mixed_history), cutoff, 28)
    dirty = build_training_set(build_features(scrambled), cutoff, 28)
    assert clean[d.HORIZON].max() == 28 and len(clean) == 3 * 28
    assert not clean[Y].equals(dirty[Y])
    pd.testing.assert_frame_equal(clean.drop(columns=Y), dirty.drop(columns=Y))


def test_training_set_joins_anchor_state_and_target_day(mixed_history) -> None:
    table = build_features(mixed_history)
    cutoff = pd.Timestamp("2016-03-10")
    train = build_training_set(table, cutoff, 7)
    assert list(train.columns) == [UNIQUE_ID, DS, CUTOFF, Y, *d.MODEL_FEATURES]
    assert set(d.MODEL_FEATURES) == {*d.HORIZON_FEATURES, *FEATURE_COLUMNS}
    assert (train[CUTOFF] == cutoff).all()
    assert train[d.HORIZON].tolist() == (train[DS] - cutoff).dt.days.tolist()
    keyed = table.set_index(KEY_COLUMNS)
    for row in train.sample(5, random_state=0).itertuples(index=False):
        row = pd.Series(row, index=train.columns)
        anchor = keyed.loc[(row[UNIQUE_ID], cutoff + DAY)]
        target = keyed.loc[(row[UNIQUE_ID], row[DS])]
        assert row[d.STATE_FEATURES].astype(float).equals(anchor[d.STATE_FEATURES].astype(float))
        np.testing.assert_array_equal(
            row[d.TARGET_DAY_FEATURES].astype(float), target[d.TARGET_DAY_FEATURES].astype(float)
        )
        assert row[Y] == target[Y]


def test_same_weekday_features_pick_the_latest_known_same_weekday(make_history) -> None:
    history = make_history({("CA_1", "FOODS_1_001"): np.arange(120.0)})  # y = day number
    cutoff = history[DS].iloc[80]  # day 80: sales known up to y = 80
    train = build_training_set(build_features(history), cutoff, 28)
    for h in (1, 6, 7, 8, 14, 15, 28):
        row = train[train[d.HORIZON] == h].iloc[0]
        target_day = 80 + h
        expected = target_day - 7 * int(np.ceil(h / 7))
        assert row[d.SAME_WEEKDAY_LAG] == expected <= 80
        assert row[d.SAME_WEEKDAY_MEAN] == pytest.approx(expected - 7 * 1.5)


def test_training_set_stacks_cutoffs_and_skips_unknown_targets(mixed_history) -> None:
    table = build_features(mixed_history)
    last = mixed_history[DS].max()
    train = build_training_set(table, [last - 10 * DAY, "2016-03-01"], 28)
    assert sorted(train[CUTOFF].unique()) == [pd.Timestamp("2016-03-01"), last - 10 * DAY]
    assert train[Y].notna().all()
    assert train.loc[train[CUTOFF] == last - 10 * DAY, d.HORIZON].max() == 10
    with pytest.raises(ValueError, match="h must be"):
        build_training_set(table, last, 0)


def test_online_state_is_the_frontier_of_each_series(mixed_history) -> None:
    table = build_features(mixed_history)
    state = online_state(table)
    assert list(state.columns) == ONLINE_COLUMNS
    assert len(state) == mixed_history[UNIQUE_ID].nunique()
    assert (state[DS] == mixed_history[DS].max() + DAY).all()
    last_y = mixed_history.groupby(UNIQUE_ID)[Y].last()
    np.testing.assert_array_equal(state[d.lag_name(1)], last_y.loc[state[UNIQUE_ID]].to_numpy())


def test_forecast_set_equals_training_set_at_the_same_cutoff(mixed_history) -> None:
    """Forecasting from the history up to a cutoff, with that future's prices and calendar,
    reads exactly the training rows of that cutoff: no train/serve skew, price features too."""
    cutoff, h = pd.Timestamp("2016-05-20"), 14
    past = mixed_history[mixed_history[DS] <= cutoff]
    future = mixed_history[mixed_history[DS] > cutoff].drop(columns=Y)
    served = build_forecast_set(past, h, future=future)
    trained = build_training_set(build_features(mixed_history), cutoff, h)
    assert list(served.columns) == [c for c in trained.columns if c != Y]
    assert len(served) == h * past[UNIQUE_ID].nunique()
    pd.testing.assert_frame_equal(served, trained.drop(columns=Y))


def test_forecast_set_without_future_inputs_holds_the_last_price(mixed_history) -> None:
    served = build_forecast_set(mixed_history, 3)
    n_series = mixed_history[UNIQUE_ID].nunique()
    assert len(served) == 3 * n_series
    assert served[d.HORIZON].tolist()[:3] == [1, 2, 3]
    assert (served[d.IS_EVENT] == 0).all() and (served[SNAP] == 0).all()
    assert (served[CUTOFF] == mixed_history[DS].max()).all()
    last_price = mixed_history.sort_values(DS).groupby(UNIQUE_ID)[SELL_PRICE].last()
    first = served.groupby(UNIQUE_ID)[SELL_PRICE].first()
    np.testing.assert_allclose(first.to_numpy(), last_price.loc[first.index], rtol=1e-6)
    lag_1 = served.groupby(UNIQUE_ID)[d.lag_name(1)].first()
    last_y = mixed_history.sort_values(DS).groupby(UNIQUE_ID)[Y].last()
    np.testing.assert_array_equal(lag_1.to_numpy(), last_y.loc[lag_1.index].to_numpy())


def test_forecast_set_refuses_a_future_that_misses_days(mixed_history) -> None:
    cutoff = pd.Timestamp("2016-05-20")
    past = mixed_history[mixed_history[DS] <= cutoff]
    future = mixed_history[mixed_history[DS] > cutoff].drop(columns=Y).iloc[1:]
    with pytest.raises(ValueError, match="lacks 1 future"):
        build_forecast_set(past, 14, future=future)


def test_bad_histories_are_refused(mixed_history) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        build_features(pd.concat([mixed_history, mixed_history.head(1)]))
    with pytest.raises(ValueError, match="required columns"):
        build_features(mixed_history.drop(columns=Y))
    with pytest.raises(ValueError, match="empty"):
        build_features(mixed_history.head(0))


def test_minimal_history_without_optional_columns(mixed_history) -> None:
    table = build_features(mixed_history[[UNIQUE_ID, DS, Y]])
    assert table[SELL_PRICE].isna().all() and (table[d.ON_PROMOTION] == 0).all()
    assert (table[d.STORE_CODE] == 0).all() and (table[d.IS_EVENT] == 0).all()
