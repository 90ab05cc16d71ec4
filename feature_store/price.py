"""Price features of the target day.

Prices are planned by the retailer and published ahead (M5's weekly price list runs past the
last sales day), so the price of day ``ds`` is known in advance and may describe the day being
predicted. Reference prices (means, the regular price, the last change) look only backwards from
``ds``. A day without a price (M5: the item was not on sale) has NaN price features and
``on_promotion = 0``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feature_store.definitions import (
    DISCOUNT_DEPTH,
    ON_PROMOTION,
    PRICE_CHANGE_1W,
    PRICE_MEAN_WINDOWS,
    PRICE_RATIO_DEPT,
    PROMO_THRESHOLD,
    REGULAR_PRICE_DAYS,
    REGULAR_PRICE_HOLD_DAYS,
    WEEKS_SINCE_PRICE_CHANGE,
    price_mean_ratio_name,
)
from feature_store.panel import Panel, rolling_mean_available, shift, window_reduce
from ml.schema import SELL_PRICE


def price_features(panel: Panel, price: np.ndarray, group: np.ndarray) -> dict[str, np.ndarray]:
    """All price feature columns for the panel's long rows.

    ``group`` gives each series (in ``panel.ids`` order) its store-department group; the
    department ratio compares a price with the mean price of its group that day.
    """
    prices = panel.wide(price)
    since_change = days_since_change(prices)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            SELL_PRICE: prices,
            PRICE_CHANGE_1W: week_on_week_change(prices),
            **{
                price_mean_ratio_name(label): prices / rolling_mean_available(prices, days)
                for label, days in PRICE_MEAN_WINDOWS
            },
            PRICE_RATIO_DEPT: prices / group_mean(prices, group),
            DISCOUNT_DEPTH: discount_depth(prices, since_change),
            WEEKS_SINCE_PRICE_CHANGE: since_change / 7.0,
        }
    columns = {name: panel.gather(matrix).astype(np.float32) for name, matrix in out.items()}
    promo = np.nan_to_num(columns[DISCOUNT_DEPTH], nan=0.0) >= PROMO_THRESHOLD
    columns[ON_PROMOTION] = promo.astype(np.int8)
    return columns


def forward_fill(matrix: np.ndarray) -> np.ndarray:
    """Each NaN cell takes the last known value before it in its row (NaN if none)."""
    steps = np.arange(matrix.shape[1])
    last = np.maximum.accumulate(np.where(np.isnan(matrix), 0, steps), axis=1)
    return np.take_along_axis(matrix, last, axis=1)


def week_on_week_change(prices: np.ndarray) -> np.ndarray:
    """Price / the last price known at least 7 days earlier - 1; 0 when there is none."""
    earlier = shift(forward_fill(prices), 7)
    change = prices / earlier - 1.0
    return np.where(np.isnan(earlier) & ~np.isnan(prices), 0.0, change)


def group_mean(prices: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Mean price of each series' group on each day (NaN prices ignored), per series row."""
    means = pd.DataFrame(prices).groupby(group).mean().to_numpy()
    _, position = np.unique(group, return_inverse=True)
    return means[position]


def discount_depth(prices: np.ndarray, since_change: np.ndarray) -> np.ndarray:
    """1 - price / regular price (0 when the price is the regular one).

    The regular price is the highest price of the recent weeks; a price that has held for
    ``REGULAR_PRICE_HOLD_DAYS`` or more is regular itself, so a permanent price cut stops
    looking like a promotion after a few weeks.
    """
    regular = window_reduce(prices, REGULAR_PRICE_DAYS, lambda b: np.fmax.reduce(b, axis=-1))
    depth = np.clip(1.0 - prices / regular, 0.0, None)
    return np.where(since_change >= REGULAR_PRICE_HOLD_DAYS, 0.0, depth)


def days_since_change(prices: np.ndarray) -> np.ndarray:
    """Days since the (forward-filled) price last changed or was first seen; NaN without price."""
    filled = forward_fill(prices)
    before = shift(filled, 1)
    changed = ~np.isnan(filled) & ((filled != before) | np.isnan(before))
    steps = np.arange(prices.shape[1])
    last = np.maximum.accumulate(np.where(changed, steps, -1), axis=1)
    return np.where(np.isnan(prices) | (last < 0), np.nan, steps - last)
