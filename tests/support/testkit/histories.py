"""Small hand-made sales histories (feature store, model inputs): every feature family has work."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.schema import (
    CAT_ID,
    DEPT_ID,
    DS,
    EVENT_NAME_1,
    EVENT_NAME_2,
    EVENT_TYPE_1,
    EVENT_TYPE_2,
    IS_FILLED,
    ITEM_ID,
    SALES_HISTORY_COLUMNS,
    SELL_PRICE,
    SNAP,
    STORE_ID,
    UNIQUE_ID,
    Y,
    series_id,
)


def _one_series(store: str, item: str, y, start: str, price) -> pd.DataFrame:
    y = np.asarray(y, dtype=float)
    days = pd.date_range(start, periods=len(y), freq="D")
    price = np.full(len(y), 1.0) if price is None else np.asarray(price, dtype=float)
    dept = item.rsplit("_", 1)[0]
    return pd.DataFrame(
        {
            UNIQUE_ID: series_id(store, item),
            DS: days,
            Y: y,
            STORE_ID: store,
            ITEM_ID: item,
            DEPT_ID: dept,
            CAT_ID: dept.split("_")[0],
            SELL_PRICE: price,
            EVENT_NAME_1: None,
            EVENT_TYPE_1: None,
            EVENT_NAME_2: None,
            EVENT_TYPE_2: None,
            SNAP: np.int8(0),
            IS_FILLED: False,
        }
    )


def make_history(
    series: dict[tuple[str, str], list[float] | np.ndarray],
    start: str | dict[tuple[str, str], str] = "2016-01-04",
    prices: dict[tuple[str, str], list[float] | np.ndarray] | None = None,
    events: dict[str, tuple[str, str]] | None = None,
    snap_days: list[str] | None = None,
) -> pd.DataFrame:
    """Build a ``sales_history`` frame from ``{(store, item): y}`` (optionally prices, starts).

    ``events`` maps a date to ``(name, type)``; ``snap_days`` lists dates with SNAP.
    """
    parts = []
    for (store, item), y in series.items():
        first = start[(store, item)] if isinstance(start, dict) else start
        price = (prices or {}).get((store, item))
        parts.append(_one_series(store, item, y, first, price))
    frame = pd.concat(parts, ignore_index=True)
    for day, (name, kind) in (events or {}).items():
        hit = frame[DS] == pd.Timestamp(day)
        frame.loc[hit, EVENT_NAME_1] = name
        frame.loc[hit, EVENT_TYPE_1] = kind
    frame.loc[frame[DS].isin(pd.to_datetime(snap_days or [])), SNAP] = 1
    return frame[SALES_HISTORY_COLUMNS].sort_values([UNIQUE_ID, DS]).reset_index(drop=True)


def mixed_history() -> pd.DataFrame:
    """Three series over 200 days (two in one department, one starting later) with promotions,
    a stretch without price, events and SNAP days: every feature family has work to do."""
    rng = np.random.default_rng(3)
    n = 200
    price_a = np.where((np.arange(n) // 7) % 6 == 2, 8.0, 10.0)
    price_b = np.r_[np.full(100, 3.0), np.full(n - 100, 2.5)]
    price_b[40:50] = np.nan
    return make_history(
        {
            ("CA_1", "FOODS_1_001"): rng.poisson(3.0, n),
            ("CA_1", "FOODS_1_002"): rng.poisson(0.4, n),
            ("CA_1", "HOBBIES_1_001"): rng.poisson(1.5, n - 30),
        },
        start={
            ("CA_1", "FOODS_1_001"): "2016-01-04",
            ("CA_1", "FOODS_1_002"): "2016-01-04",
            ("CA_1", "HOBBIES_1_001"): "2016-02-03",
        },
        prices={
            ("CA_1", "FOODS_1_001"): price_a,
            ("CA_1", "FOODS_1_002"): price_b,
            ("CA_1", "HOBBIES_1_001"): np.full(n - 30, 5.0),
        },
        events={
            "2016-02-14": ("ValentinesDay", "Cultural"),
            "2016-05-30": ("MemorialDay", "National"),
        },
        snap_days=[f"2016-0{m}-0{d}" for m in range(1, 8) for d in range(1, 8)],
    )
