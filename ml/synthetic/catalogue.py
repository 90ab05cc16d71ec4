"""Stores, the product catalogue and the true parameters of every series.

Ids follow M5: stores ``<STATE>_<n>`` (CA_1, TX_1, WI_1, CA_2, ...), items
``<DEPT>_<nnn>`` (FOODS_3_001) in departments ``<CAT>_<n>`` of categories FOODS, HOUSEHOLD and
HOBBIES, with M5's rough department shares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.schema import CAT_ID, DEPT_ID, ITEM_ID, STORE_ID, UNIT_COST
from ml.synthetic.config import SyntheticConfig

STATES = ("CA", "TX", "WI")
FOODS = "FOODS"

# Department -> share of items (close to M5's 3,049 items).
DEPT_SHARES: dict[str, float] = {
    "FOODS_1": 0.07,
    "FOODS_2": 0.13,
    "FOODS_3": 0.27,
    "HOUSEHOLD_1": 0.17,
    "HOUSEHOLD_2": 0.17,
    "HOBBIES_1": 0.14,
    "HOBBIES_2": 0.05,
}

# Day of year where each category's yearly cycle peaks (FOODS and HOBBIES around the December
# holidays, HOUSEHOLD in early summer); each series adds a little jitter.
YEARLY_PEAK_DOY: dict[str, float] = {"FOODS": 355.0, "HOUSEHOLD": 170.0, "HOBBIES": 340.0}


def store_ids(n_stores: int) -> list[str]:
    """M5-style store ids cycling over the states: CA_1, TX_1, WI_1, CA_2, ..."""
    return [f"{STATES[i % len(STATES)]}_{i // len(STATES) + 1}" for i in range(n_stores)]


def _dept_counts(n_items: int) -> dict[str, int]:
    """Items per department by largest remainder, every department non-empty when possible."""
    shares = np.array(list(DEPT_SHARES.values()))
    raw = shares * n_items
    counts = np.floor(raw).astype(int)
    counts[np.argsort(counts - raw)[: n_items - counts.sum()]] += 1
    while n_items >= len(counts) and (counts == 0).any():
        counts[np.argmax(counts)] -= 1
        counts[np.argmin(counts)] += 1
    return {dept: int(n) for dept, n in zip(DEPT_SHARES, counts, strict=True) if n > 0}


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float], size: int) -> np.ndarray:
    low, high = np.log(bounds[0]), np.log(bounds[1])
    return np.exp(rng.uniform(low, high, size))


def build_products(config: SyntheticConfig, rng: np.random.Generator) -> pd.DataFrame:
    """Catalogue with the item-level truth: item_id, dept_id, cat_id, unit_cost, base_price,
    margin, elasticity, item_level (units/day before the store factor) and slow_mover."""
    depts = [dept for dept, n in _dept_counts(config.n_items).items() for _ in range(n)]
    numbers = pd.Series(depts).groupby(depts).cumcount() + 1
    n = len(depts)
    base_price = np.round(_log_uniform(rng, config.base_price_range, n), 2)
    margin = rng.uniform(*config.margin_range, n)
    slow = rng.permutation(n) < round(config.slow_mover_share * n)  # an exact share
    level = np.where(
        slow,
        _log_uniform(rng, config.slow_level_range, n),
        _log_uniform(rng, config.fast_level_range, n),
    )
    return pd.DataFrame(
        {
            ITEM_ID: [f"{dept}_{k:03d}" for dept, k in zip(depts, numbers, strict=True)],
            DEPT_ID: depts,
            CAT_ID: [dept.rsplit("_", 1)[0] for dept in depts],
            UNIT_COST: np.round(base_price * (1.0 - margin), 2),
            "base_price": base_price,
            "margin": margin,
            "elasticity": rng.uniform(*config.elasticity_range, n),
            "item_level": level,
            "slow_mover": slow,
        }
    )


def build_series(
    config: SyntheticConfig, products: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """One row per (store, item), store-major, with the true demand parameters of the series."""
    stores = store_ids(config.n_stores)
    n_items, n_series = len(products), len(stores) * len(products)
    store_level = np.exp(rng.normal(0.0, config.store_level_sigma, len(stores)))
    store_price = np.exp(rng.normal(0.0, config.store_price_sigma, len(stores)))
    series = products.loc[np.tile(np.arange(n_items), len(stores))].reset_index(drop=True)
    series.insert(0, STORE_ID, np.repeat(stores, n_items))
    series["base_price"] = np.round(series["base_price"] * np.repeat(store_price, n_items), 2)
    series["base_level"] = series.pop("item_level") * np.repeat(store_level, n_items)
    series["trend_per_year"] = rng.normal(config.trend_mean, config.trend_sigma, n_series)
    series["weekly_amplitude"] = rng.uniform(*config.weekly_amplitude_range, n_series)
    series["yearly_amplitude"] = rng.uniform(*config.yearly_amplitude_range, n_series)
    peak = series[CAT_ID].map(YEARLY_PEAK_DOY).to_numpy() + rng.normal(0.0, 10.0, n_series)
    series["yearly_peak_doy"] = np.mod(peak, 365.25)
    series["snap_uplift"] = np.where(series[CAT_ID] == FOODS, config.snap_uplift, 1.0)
    series["promo_extra_uplift"] = config.promo_extra_uplift
    series["nb_dispersion"] = config.nb_dispersion
    return series.drop(columns=[UNIT_COST, "slow_mover"])
