"""The shared M5 subset (``../shared/data/m5``) as ``sales_history``, for tests and benchmarks,
and the last-``h``-days holdout they score on.

The platform ingests M5 files like any retailer's (``ml.data``); this reads the shared Parquet
subset directly, which is faster when only the history is wanted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from ml.data.history import build_sales_history
from ml.data.m5 import M5_WEEK, week_starts
from ml.evaluation.backtest import window_cutoffs
from ml.schema import DATE, DS, EVENT_COLUMNS, ITEM_ID, PRICE, STORE_ID, UNITS

M5_PRICE = "sell_price"


def train_test_split(
    df: pd.DataFrame, h: int, freq: str = "D"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out the last ``h`` steps of the data (the final evaluation period)."""
    cutoff = window_cutoffs(df[DS].max(), h, 1, h, freq)[0]
    return df[df[DS] <= cutoff], df[df[DS] > cutoff]


def normalise_calendar(calendar: pd.DataFrame) -> pd.DataFrame:
    """Canonical calendar (date, events, snap_<STATE>) from the M5 calendar."""
    snap = [c for c in calendar.columns if c.startswith("snap_")]
    out = calendar[[DATE, *[c for c in EVENT_COLUMNS if c in calendar], *snap]].copy()
    out[DATE] = pd.to_datetime(out[DATE])
    return out


def normalise_prices(sell_prices: pd.DataFrame, calendar: pd.DataFrame) -> pd.DataFrame:
    """Canonical prices (date = week start, store_id, item_id, price) from M5 weekly prices."""
    starts = week_starts(calendar)
    unknown = ~sell_prices[M5_WEEK].isin(starts.index)
    if unknown.any():
        weeks = sorted(sell_prices.loc[unknown, M5_WEEK].unique())[:5]
        raise ValueError(f"{int(unknown.sum())} price rows name weeks not in the calendar: {weeks}")
    return pd.DataFrame(
        {
            DATE: sell_prices[M5_WEEK].map(starts).to_numpy(),
            STORE_ID: sell_prices[STORE_ID].to_numpy(),
            ITEM_ID: sell_prices[ITEM_ID].to_numpy(),
            PRICE: sell_prices[M5_PRICE].astype("float64").to_numpy(),
        }
    )


SHAPES = {
    "long": ("sales_daily_28items_9stores.parquet", "sell_prices_28items_9stores.parquet"),
    "short": ("sales_daily_recent.parquet", "sell_prices.parquet"),
    "mixed": ("sales_daily_full_28items.parquet", "sell_prices.parquet"),
}


def load_m5_sales_history(m5_dir: Path, shape: Literal["long", "short", "mixed"]) -> pd.DataFrame:
    """The shared M5 subset as ``sales_history``.

    ``long``: 252 item-store series x 1,913 days (28 items in 9 stores).
    ``short``: all 3,049 CA_1 items x the last 116 days.
    ``mixed``: store CA_1 as a retailer would send it: 28 items with all 1,969 days and the
    other 3,021 with the last 116 (a store mixing five-year and four-month histories).
    """
    m5_dir = Path(m5_dir)
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {sorted(SHAPES)}, got {shape!r}")
    sales_file, prices_file = SHAPES[shape]
    calendar = pd.read_parquet(m5_dir / "calendar.parquet")
    sales = pd.read_parquet(m5_dir / sales_file)
    if shape == "mixed":  # the recent file's days of the other items
        recent = pd.read_parquet(m5_dir / SHAPES["short"][0])
        sales = pd.concat([sales, recent[~recent[ITEM_ID].isin(sales[ITEM_ID])]])
    sales[DATE] = pd.to_datetime(sales[DATE])
    sales[UNITS] = sales[UNITS].astype("float64")
    prices = normalise_prices(pd.read_parquet(m5_dir / prices_file), calendar)
    return build_sales_history(sales, prices, normalise_calendar(calendar))
