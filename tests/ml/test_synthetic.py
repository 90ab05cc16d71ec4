"""The synthetic retailer: reproducible, realistic, and its ground truth is recoverable."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ml.schema import (
    CAT_ID,
    DATE,
    DEPT_ID,
    EVENT_COLUMNS,
    EVENT_TYPE_1,
    EVENT_TYPE_2,
    ITEM_ID,
    PRICE,
    STORE_ID,
    UNIT_COST,
    UNITS,
    state_of_store,
)
from ml.synthetic import (
    SyntheticConfig,
    SyntheticDataset,
    generate,
    read_truth,
    truth_dir,
    write_landing_files,
)

SMALL = SyntheticConfig(n_stores=2, n_items=14, n_days=60, seed=7)
SERIES_KEYS = [STORE_ID, ITEM_ID]


@pytest.fixture(scope="module")
def default() -> SyntheticDataset:
    """The embedded default data set (generated once for the module)."""
    return generate()


def _frames(dataset: SyntheticDataset) -> dict[str, pd.DataFrame]:
    names = ["sales", "prices", "calendar", "products", "truth", "expected_units"]
    return {name: getattr(dataset, name) for name in names}


def test_same_seed_gives_identical_frames_and_another_seed_differs() -> None:
    first, again = generate(SMALL), generate(SMALL)
    for name, frame in _frames(first).items():
        pd.testing.assert_frame_equal(frame, _frames(again)[name])
    assert first.event_uplift == again.event_uplift
    small_other = generate(SyntheticConfig(n_stores=2, n_items=14, n_days=60, seed=8))
    assert not first.sales[UNITS].equals(small_other.sales[UNITS])
    assert not first.truth["elasticity"].equals(small_other.truth["elasticity"])


def test_frames_have_the_canonical_columns_and_dtypes(default: SyntheticDataset) -> None:
    assert list(default.sales.columns) == [DATE, STORE_ID, ITEM_ID, UNITS, PRICE]
    assert list(default.prices.columns) == [DATE, STORE_ID, ITEM_ID, PRICE]
    assert list(default.products.columns) == [ITEM_ID, DEPT_ID, CAT_ID, UNIT_COST]
    assert list(default.calendar.columns) == [DATE, *EVENT_COLUMNS, "snap_CA", "snap_TX", "snap_WI"]
    for frame in (default.sales, default.prices, default.calendar):
        assert pd.api.types.is_datetime64_any_dtype(frame[DATE])
    assert pd.api.types.is_integer_dtype(default.sales[UNITS])
    assert pd.api.types.is_float_dtype(default.sales[PRICE])
    assert default.calendar["snap_CA"].isin([0, 1]).all()
    assert not default.sales.duplicated([DATE, *SERIES_KEYS]).any()


def test_ids_follow_the_m5_conventions(default: SyntheticDataset) -> None:
    assert sorted(default.sales[STORE_ID].unique()) == ["CA_1", "TX_1", "WI_1"]
    products = default.products
    assert len(products) == 120 and products[ITEM_ID].is_unique
    assert set(products[CAT_ID]) == {"FOODS", "HOUSEHOLD", "HOBBIES"}
    assert (products[ITEM_ID].str.rsplit("_", n=1).str[0] == products[DEPT_ID]).all()
    assert (products[DEPT_ID].str.rsplit("_", n=1).str[0] == products[CAT_ID]).all()
    assert products[ITEM_ID].str.fullmatch(r"[A-Z]+_\d_\d{3}").all()
    assert len(default.truth) == 360 and not default.truth.duplicated(SERIES_KEYS).any()


def test_units_are_non_negative_integers_and_prices_positive(default: SyntheticDataset) -> None:
    assert (default.sales[UNITS] >= 0).all()
    assert (default.sales[PRICE] > 0).all() and (default.prices[PRICE] > 0).all()
    assert (default.products[UNIT_COST] > 0).all()
    base = default.truth.set_index(ITEM_ID)["base_price"].groupby(level=0).min()
    cost = default.products.set_index(ITEM_ID)[UNIT_COST]
    assert (cost < base.loc[cost.index]).all()  # a margin below every store's base price


def test_sales_are_intermittent_like_m5(default: SyntheticDataset) -> None:
    zero_share = (default.sales[UNITS] == 0).mean()
    assert 0.30 < zero_share < 0.70
    mean_units = default.sales.groupby(SERIES_KEYS)[UNITS].mean()
    assert (mean_units < 1).mean() > 0.3  # slow movers
    assert (mean_units > 10).sum() >= 10  # and some fast movers


def test_missing_rows_match_the_missing_day_rate(default: SyntheticDataset) -> None:
    cfg = default.config
    missing = 1 - len(default.sales) / (cfg.n_stores * cfg.n_items * cfg.n_days)
    assert missing == pytest.approx(cfg.missing_day_rate, abs=0.002)
    dense = generate(SyntheticConfig(n_stores=2, n_items=14, n_days=60, missing_day_rate=0.0))
    assert len(dense.sales) == 2 * 14 * 60


def test_units_scatter_around_the_expected_demand(default: SyntheticDataset) -> None:
    merged = default.sales.merge(default.expected_units, on=[DATE, *SERIES_KEYS])
    assert merged[UNITS].sum() / merged["expected_units"].sum() == pytest.approx(1.0, abs=0.03)


def test_prices_are_weekly_and_sales_carry_the_week_price(default: SyntheticDataset) -> None:
    prices = default.prices
    assert prices.groupby(SERIES_KEYS)[DATE].diff().dropna().eq(pd.Timedelta(days=7)).all()
    weeks = prices[DATE].drop_duplicates()
    assert weeks.iloc[0] == default.config.start_date
    assert weeks.iloc[-1] >= default.calendar[DATE].iloc[-1] - pd.Timedelta(days=6)
    sales = default.sales.copy()
    sales["week"] = sales[DATE] - pd.to_timedelta((sales[DATE] - weeks.iloc[0]).dt.days % 7, "D")
    joined = sales.merge(prices, left_on=["week", *SERIES_KEYS], right_on=[DATE, *SERIES_KEYS])
    assert len(joined) == len(sales)
    np.testing.assert_array_equal(joined[f"{PRICE}_x"], joined[f"{PRICE}_y"])


def _history_prices(dataset: SyntheticDataset) -> pd.DataFrame:
    end = dataset.config.start_date + pd.Timedelta(days=dataset.config.n_days)
    return dataset.prices[dataset.prices[DATE] < end]


def test_every_series_has_enough_price_changes_and_promotions(
    default: SyntheticDataset,
) -> None:
    prices = _history_prices(default)
    change = prices.groupby(SERIES_KEYS)[PRICE].diff().fillna(0.0)
    changes = change.ne(0).groupby([prices[STORE_ID], prices[ITEM_ID]]).sum()
    assert changes.min() >= 10
    # promotions: deep temporary cuts, priced back up the week after (or two weeks later)
    drop = -change / (prices[PRICE] - change)
    cuts = (drop >= 0.10).groupby([prices[STORE_ID], prices[ITEM_ID]]).sum()
    assert cuts.min() >= 5
    assert (default.truth["n_promo_weeks"] > 0).all()
    truth_changes = default.truth.set_index(SERIES_KEYS)["n_price_changes"]
    pd.testing.assert_series_equal(
        changes.sort_index(), truth_changes.sort_index(), check_names=False, check_dtype=False
    )


def _weekly_elasticity(weekly: pd.DataFrame) -> float:
    """Log-log OLS of weekly units on price with trend and yearly controls."""
    t = weekly["week"].to_numpy() / 52.18
    design = np.column_stack(
        [np.ones(len(t)), np.log(weekly[PRICE]), t, np.sin(2 * np.pi * t), np.cos(2 * np.pi * t)]
    )
    coef, *_ = np.linalg.lstsq(design, np.log(weekly[UNITS]), rcond=None)
    return float(coef[1])


def test_log_log_regression_recovers_the_true_elasticity(default: SyntheticDataset) -> None:
    fast = default.truth[default.truth["mean_units"] >= 3].set_index(SERIES_KEYS)
    sales = default.sales.merge(fast.reset_index()[SERIES_KEYS], on=SERIES_KEYS)
    sales["week"] = (sales[DATE] - default.config.start_date).dt.days // 7
    weekly = sales.groupby([*SERIES_KEYS, "week"]).agg(
        units=(UNITS, "sum"), price=(PRICE, "first"), days=(UNITS, "size")
    )
    weekly = weekly[(weekly["days"] == 7) & (weekly[UNITS] > 0)].reset_index()
    estimates = weekly.groupby(SERIES_KEYS)[["week", PRICE, UNITS]].apply(_weekly_elasticity)
    true = fast.loc[estimates.index, "elasticity"]
    assert len(estimates) >= 50
    assert (estimates - true).abs().median() < 0.2
    assert np.corrcoef(estimates, true)[0, 1] > 0.9


def test_event_days_show_the_true_uplift(default: SyntheticDataset) -> None:
    per_day = default.sales.groupby(DATE)[UNITS].mean()
    calendar = default.calendar.set_index(DATE).loc[per_day.index]
    event_days = set(calendar.index[calendar[EVENT_TYPE_1].notna()])
    single = calendar[calendar[EVENT_TYPE_1].notna() & calendar[EVENT_TYPE_2].isna()]
    assert set(single[EVENT_TYPE_1]) == set(default.event_uplift)
    for event_type, days in single.groupby(EVENT_TYPE_1).groups.items():
        on, ref = 0.0, 0.0
        for day in days:
            refs = [day + pd.Timedelta(days=k) for k in (-14, -7, 7, 14)]
            refs = [r for r in refs if r in per_day.index and r not in event_days]
            on, ref = on + per_day[day], ref + per_day[refs].mean()
        ratio = on / ref
        assert ratio > 1.05, event_type
        assert ratio == pytest.approx(default.event_uplift[event_type], rel=0.12), event_type


def test_snap_days_lift_foods_only(default: SyntheticDataset) -> None:
    snap = default.calendar.melt(
        id_vars=DATE, value_vars=["snap_CA", "snap_TX", "snap_WI"], var_name="state"
    )
    snap["state"] = snap["state"].str.removeprefix("snap_")
    sales = default.sales.merge(default.products[[ITEM_ID, CAT_ID]], on=ITEM_ID)
    sales["state"] = state_of_store(sales[STORE_ID])
    sales = sales.merge(snap, on=[DATE, "state"])  # each store against its own state's days
    means = sales.groupby([sales[CAT_ID] == "FOODS", "value"])[UNITS].mean().unstack()
    lift = means[1] / means[0]
    assert lift[True] == pytest.approx(default.config.snap_uplift, abs=0.05)
    assert lift[False] == pytest.approx(1.0, abs=0.03)
    per_month = default.calendar.groupby(default.calendar[DATE].dt.to_period("M"))
    assert per_month[["snap_CA", "snap_TX", "snap_WI"]].sum().eq(10).all().all()


def test_calendar_holds_us_holidays_and_retail_events(default: SyntheticDataset) -> None:
    names = default.calendar.set_index(DATE)["event_name_1"]
    assert names[pd.Timestamp("2023-11-23")] == "Thanksgiving Day"
    assert names[pd.Timestamp("2023-11-24")] == "BlackFriday"
    assert names[pd.Timestamp("2023-02-12")] == "SuperBowl"
    assert names[pd.Timestamp("2024-05-12")] == "Mother's day"
    assert not names.dropna().str.contains("observed").any()
    types = pd.concat([default.calendar[EVENT_TYPE_1], default.calendar[EVENT_TYPE_2]]).dropna()
    assert set(types) == {"National", "Religious", "Cultural", "Sporting"}
    assert len(default.calendar) == default.config.n_days + default.config.future_days


def test_write_landing_files_keeps_truth_outside_the_landing_folder(tmp_path) -> None:
    dataset = generate(SMALL)
    landing = tmp_path / "landing"
    written = write_landing_files(dataset, landing)
    names = ["sales.csv", "prices.csv", "calendar.csv", "products.csv"]
    assert [p.name for p in written] == names
    assert sorted(p.name for p in landing.iterdir()) == sorted(names)
    sales = pd.read_csv(landing / "sales.csv")
    assert list(sales.columns) == list(dataset.sales.columns)
    assert sales[DATE].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert sales[UNITS].sum() == dataset.sales[UNITS].sum()
    assert truth_dir(landing) == tmp_path / "truth"
    truth, uplift = read_truth(landing)
    pd.testing.assert_frame_equal(truth, dataset.truth)
    assert uplift == dataset.event_uplift
    config = json.loads((tmp_path / "truth" / "config.json").read_text())
    assert config["seed"] == SMALL.seed and config["n_days"] == SMALL.n_days


def test_daily_sales_files_hold_one_day_each(tmp_path) -> None:
    dataset = generate(SMALL)
    written = write_landing_files(dataset, tmp_path / "landing", daily_sales_files=True)
    daily = sorted((tmp_path / "landing").glob("sales_*.csv"))
    assert len(daily) == SMALL.n_days
    assert not (tmp_path / "landing" / "sales.csv").exists()
    assert daily[0].name == "sales_2023-01-01.csv" and set(daily) <= set(written)
    one_day = pd.read_csv(daily[5])
    assert one_day[DATE].nunique() == 1 and one_day[DATE].iloc[0] == "2023-01-06"
    assert sum(len(pd.read_csv(p)) for p in daily) == len(dataset.sales)


def test_default_generation_is_fast() -> None:
    import time

    started = time.perf_counter()
    generate()
    assert time.perf_counter() - started < 5.0


@pytest.mark.parametrize(
    "bad",
    [
        {"n_items": 0},
        {"missing_day_rate": 1.0},
        {"future_days": -1},
        {"promo_max_weeks": 5, "promo_block_weeks": 5},
    ],
)
def test_config_rejects_impossible_values(bad: dict) -> None:
    with pytest.raises(ValueError):
        SyntheticConfig(**bad)
