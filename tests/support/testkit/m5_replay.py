"""Replay real M5 days through the landing zone, one POS file per day (benchmarks and tests).

The long M5 shape (28 items in 9 stores, daily) is turned into what a retailer would drop: a
bulk sales file for the history up to a date, a calendar, a product catalogue, then one
``sales_YYYY-MM-DD.csv`` per later day carrying each item's shelf price (the weekly M5 price).
:func:`inject_shift` makes a known change to replay against: one department's prices up and
its demand thinned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ml.schema import CAT_ID, DATE, DEPT_ID, ITEM_ID, PRICE, STORE_ID, UNITS
from ml.synthetic.landing import daily_sales_name
from testkit.m5 import normalise_calendar

POS_COLUMNS = [DATE, STORE_ID, ITEM_ID, UNITS, PRICE, DEPT_ID, CAT_ID]


@dataclass(frozen=True)
class ReplayData:
    """Daily POS rows (with shelf prices), the calendar and the product catalogue."""

    pos: pd.DataFrame
    calendar: pd.DataFrame
    products: pd.DataFrame

    @property
    def series(self) -> int:
        return int(self.pos[[STORE_ID, ITEM_ID]].drop_duplicates().shape[0])


def load_m5_pos(
    m5_dir: Path,
    stores: Sequence[str],
    items: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
) -> ReplayData:
    """The long M5 shape as POS rows for some stores (and items) between two dates."""
    m5_dir = Path(m5_dir)
    calendar = pd.read_parquet(m5_dir / "calendar.parquet")
    sales = pd.read_parquet(m5_dir / "sales_daily_28items_9stores.parquet")
    sales = sales[sales[STORE_ID].isin(stores)]
    if items is not None:
        sales = sales[sales[ITEM_ID].isin(items)]
    sales[DATE] = pd.to_datetime(sales[DATE])
    sales = sales[
        (sales[DATE] >= pd.Timestamp(start or sales[DATE].min()))
        & (sales[DATE] <= pd.Timestamp(end or sales[DATE].max()))
    ]
    weeks = calendar.assign(**{DATE: pd.to_datetime(calendar[DATE])})[[DATE, "wm_yr_wk"]]
    prices = pd.read_parquet(m5_dir / "sell_prices_28items_9stores.parquet")
    pos = (
        sales.merge(weeks, on=DATE, how="left")
        .merge(prices, on=[STORE_ID, ITEM_ID, "wm_yr_wk"], how="left")
        .rename(columns={"sell_price": PRICE})
    )
    pos[UNITS] = pos[UNITS].astype("int64")
    products = pos[[ITEM_ID, DEPT_ID, CAT_ID]].drop_duplicates().sort_values(ITEM_ID)
    cal = normalise_calendar(calendar)
    cal = cal[(cal[DATE] >= pos[DATE].min()) & (cal[DATE] <= pos[DATE].max())]
    pos = pos[POS_COLUMNS].sort_values([DATE, STORE_ID, ITEM_ID]).reset_index(drop=True)
    return ReplayData(pos, cal.reset_index(drop=True), products.reset_index(drop=True))


def inject_shift(
    data: ReplayData,
    dept: str,
    start: str,
    price_factor: float = 1.3,
    demand_factor: float = 0.5,
    seed: int = 0,
) -> ReplayData:
    """From ``start`` on, ``dept``'s prices times ``price_factor`` and each day's units thinned
    binomially to ``demand_factor`` of themselves (counts stay counts)."""
    pos = data.pos.copy()
    hit = (pos[DEPT_ID] == dept) & (pos[DATE] >= pd.Timestamp(start))
    if not hit.any():
        raise ValueError(f"no {dept} rows on or after {start} to shift")
    pos.loc[hit, PRICE] = pos.loc[hit, PRICE] * price_factor
    rng = np.random.default_rng(seed)
    pos.loc[hit, UNITS] = rng.binomial(pos.loc[hit, UNITS].to_numpy(), demand_factor)
    return ReplayData(pos, data.calendar, data.products)


def write_initial(data: ReplayData, folder: Path, until: str) -> list[Path]:
    """History up to ``until`` (one sales file), the calendar and the products."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    history = data.pos[data.pos[DATE] <= pd.Timestamp(until)]
    files = {
        "sales_history.csv": history,
        "calendar.csv": data.calendar,
        "products.csv": data.products,
    }
    return [_write(frame, folder / name) for name, frame in files.items()]


def write_day(data: ReplayData, day: pd.Timestamp, folder: Path) -> Path:
    """One day's POS file, ``sales_YYYY-MM-DD.csv``."""
    rows = data.pos[data.pos[DATE] == pd.Timestamp(day)]
    if rows.empty:
        raise ValueError(f"no POS rows on {pd.Timestamp(day).date()}")
    return _write(rows, Path(folder) / daily_sales_name(pd.Timestamp(day)))


def _write(frame: pd.DataFrame, path: Path) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False, date_format="%Y-%m-%d")
    tmp.replace(path)
    return path
