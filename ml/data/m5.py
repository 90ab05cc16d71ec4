"""The M5 (Walmart) file set, normalised to the canonical tables.

M5 keys days as ``d_<n>`` and price weeks as ``wm_yr_wk``; both resolve to dates through the
calendar, so a calendar must be known before wide sales or M5 prices can be normalised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from ml.data.history import build_sales_history
from ml.schema import CAT_ID, DATE, DEPT_ID, EVENT_COLUMNS, ITEM_ID, PRICE, STORE_ID, UNITS

M5_DAY = "d"
M5_WEEK = "wm_yr_wk"
M5_PRICE = "sell_price"
M5_WIDE_ID_COLUMNS = ["id", ITEM_ID, DEPT_ID, CAT_ID, STORE_ID, "state_id"]


def normalise_calendar(calendar: pd.DataFrame) -> pd.DataFrame:
    """Canonical calendar (date, events, snap_<STATE>) from the M5 calendar."""
    snap = [c for c in calendar.columns if c.startswith("snap_")]
    out = calendar[[DATE, *[c for c in EVENT_COLUMNS if c in calendar], *snap]].copy()
    out[DATE] = pd.to_datetime(out[DATE])
    return out


def day_index(calendar: pd.DataFrame) -> pd.Series:
    """``d_<n>`` -> date."""
    return pd.Series(pd.to_datetime(calendar[DATE]).to_numpy(), index=calendar[M5_DAY].to_numpy())


def week_starts(calendar: pd.DataFrame) -> pd.Series:
    """``wm_yr_wk`` -> the first date of that Walmart week."""
    dates = pd.to_datetime(calendar[DATE])
    return dates.groupby(calendar[M5_WEEK].to_numpy()).min()


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


def normalise_wide_sales(wide: pd.DataFrame, calendar: pd.DataFrame) -> pd.DataFrame:
    """Canonical long sales from ``sales_train_*.csv`` (one column per ``d_<n>``)."""
    day_columns = [c for c in wide.columns if c.startswith("d_")]
    days = day_index(calendar)
    unknown = [c for c in day_columns if c not in days.index]
    if unknown:
        raise ValueError(f"{len(unknown)} day columns are not in the calendar: {unknown[:5]}")
    ids = [c for c in (ITEM_ID, DEPT_ID, CAT_ID, STORE_ID) if c in wide.columns]
    long = wide.melt(id_vars=ids, value_vars=day_columns, var_name=M5_DAY, value_name=UNITS)
    long[DATE] = long.pop(M5_DAY).map(days)
    long[UNITS] = long[UNITS].astype("float64")
    return long[[DATE, STORE_ID, ITEM_ID, UNITS, *[c for c in (DEPT_ID, CAT_ID) if c in ids]]]


def load_m5_sales_history(m5_dir: Path, shape: Literal["long", "short"]) -> pd.DataFrame:
    """The shared M5 subset as ``sales_history``.

    ``long``: 252 item-store series x 1,913 days (28 items in 9 stores).
    ``short``: all 3,049 CA_1 items x the last 116 days.
    """
    m5_dir = Path(m5_dir)
    files = {
        "long": ("sales_daily_28items_9stores.parquet", "sell_prices_28items_9stores.parquet"),
        "short": ("sales_daily_recent.parquet", "sell_prices.parquet"),
    }
    if shape not in files:
        raise ValueError(f"shape must be 'long' or 'short', got {shape!r}")
    sales_file, prices_file = files[shape]
    calendar = pd.read_parquet(m5_dir / "calendar.parquet")
    sales = pd.read_parquet(m5_dir / sales_file)
    sales[DATE] = pd.to_datetime(sales[DATE])
    sales[UNITS] = sales[UNITS].astype("float64")
    prices = normalise_prices(pd.read_parquet(m5_dir / prices_file), calendar)
    return build_sales_history(sales, prices, normalise_calendar(calendar))
