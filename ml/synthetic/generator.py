"""Assemble a :class:`SyntheticDataset` from a :class:`SyntheticConfig`.

Each component (catalogue, series parameters, prices, sales noise, missing rows) draws from its
own child of ``SeedSequence(config.seed)``, so the same seed gives identical frames and changing
one knob does not reshuffle the random draws of unrelated components.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.schema import CAT_ID, DATE, DEPT_ID, ITEM_ID, PRICE, STORE_ID, UNIT_COST, UNITS
from ml.synthetic.calendar import build_calendar, event_multiplier
from ml.synthetic.catalogue import STATES, build_products, build_series, store_ids
from ml.synthetic.config import SyntheticConfig, SyntheticDataset
from ml.synthetic.demand import daily, expected_demand, sample_units
from ml.synthetic.prices import PricePlan, build_price_plan, price_truth

TRUTH_LEADING = [STORE_ID, ITEM_ID, DEPT_ID, CAT_ID, "elasticity", "base_price", "base_level"]


def _long(
    series: pd.DataFrame, dates: pd.DatetimeIndex, values: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Date-major long frame (date, store_id, item_id, *values) from (S, len(dates)) matrices."""
    n_series = len(series)
    frame = pd.DataFrame(
        {
            DATE: np.repeat(dates.to_numpy(), n_series),
            STORE_ID: np.tile(series[STORE_ID].to_numpy(), len(dates)),
            ITEM_ID: np.tile(series[ITEM_ID].to_numpy(), len(dates)),
        }
    )
    for name, matrix in values.items():
        frame[name] = matrix.T.ravel()
    return frame


def _sales(
    config: SyntheticConfig,
    series: pd.DataFrame,
    units: np.ndarray,
    plan: PricePlan,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The POS sales file: one row per series and day, a random ``missing_day_rate`` left out."""
    dates = pd.date_range(config.start_date, periods=config.n_days, freq="D")
    price = daily(plan.price, config.n_days)
    sales = _long(series, dates, {UNITS: units, PRICE: price})
    keep = rng.random(len(sales)) >= config.missing_day_rate
    return sales[keep].reset_index(drop=True)


def _truth(
    config: SyntheticConfig, series: pd.DataFrame, plan: PricePlan, mean: np.ndarray
) -> pd.DataFrame:
    """One row per series: its true parameters plus price and demand facts of the history."""
    facts = price_truth(
        plan, series["elasticity"].to_numpy(), config.n_days, config.promo_extra_uplift
    )
    truth = pd.concat([series.reset_index(drop=True), facts], axis=1)
    truth["mean_units"] = mean[:, : config.n_days].mean(axis=1)
    truth["slow_mover"] = truth["mean_units"] < 1.0
    rest = [col for col in truth.columns if col not in TRUTH_LEADING]
    return truth[TRUTH_LEADING + rest]


def generate(config: SyntheticConfig = SyntheticConfig()) -> SyntheticDataset:  # noqa: B008
    """Generate the synthetic retailer's landing frames and the ground truth behind them."""
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(5)]
    products = build_products(config, rngs[0])
    series = build_series(config, products, rngs[1])
    plan = build_price_plan(config, series["base_price"].to_numpy(), rngs[2])
    dates = pd.date_range(config.start_date, periods=config.n_days + config.future_days)
    states = [s for s in STATES if any(i.startswith(s) for i in store_ids(config.n_stores))]
    calendar = build_calendar(dates, states)
    event = event_multiplier(calendar, config.event_uplift_map)
    mean = expected_demand(series, calendar, plan, event)
    units = sample_units(mean[:, : config.n_days], config.nb_dispersion, rngs[3])
    prices = _long(series, plan.week_starts, {PRICE: plan.price})
    return SyntheticDataset(
        sales=_sales(config, series, units, plan, rngs[4]),
        prices=prices,
        calendar=calendar,
        products=products[[ITEM_ID, DEPT_ID, CAT_ID, UNIT_COST]].copy(),
        truth=_truth(config, series, plan, mean),
        event_uplift=config.event_uplift_map,
        config=config,
        expected_units=_long(series, dates, {"expected_units": mean}),
    )
