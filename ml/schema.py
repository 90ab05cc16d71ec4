"""Column names and frame contracts shared by every stage.

Long format everywhere: one row per series and day. A series is one item in one store; its id
joins the two with a double underscore (``CA_1__FOODS_3_090``) so it splits back unambiguously
(M5 and most retailers use single underscores inside store and item ids).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

# -- series keys and target ---------------------------------------------------------------
UNIQUE_ID = "unique_id"
DS = "ds"
Y = "y"
CUTOFF = "cutoff"

# -- hierarchy ------------------------------------------------------------------------------
STORE_ID = "store_id"
ITEM_ID = "item_id"
DEPT_ID = "dept_id"
CAT_ID = "cat_id"
STATE_ID = "state_id"

# -- exogenous columns riding along in sales_history ------------------------------------------
SELL_PRICE = "sell_price"
EVENT_NAME_1 = "event_name_1"
EVENT_TYPE_1 = "event_type_1"
EVENT_NAME_2 = "event_name_2"
EVENT_TYPE_2 = "event_type_2"
SNAP = "snap"
IS_FILLED = "is_filled"  # True where the day was absent from every input file and set to 0
UNIT_COST = "unit_cost"

EVENT_COLUMNS = [EVENT_NAME_1, EVENT_TYPE_1, EVENT_NAME_2, EVENT_TYPE_2]

SALES_HISTORY_COLUMNS = [
    UNIQUE_ID,
    DS,
    Y,
    STORE_ID,
    ITEM_ID,
    DEPT_ID,
    CAT_ID,
    SELL_PRICE,
    *EVENT_COLUMNS,
    SNAP,
    IS_FILLED,
]

SALES_HISTORY_DTYPES: dict[str, str] = {
    UNIQUE_ID: "object",
    DS: "datetime64[ns]",
    Y: "float64",
    STORE_ID: "object",
    ITEM_ID: "object",
    DEPT_ID: "object",
    CAT_ID: "object",
    SELL_PRICE: "float64",
    EVENT_NAME_1: "object",
    EVENT_TYPE_1: "object",
    EVENT_NAME_2: "object",
    EVENT_TYPE_2: "object",
    SNAP: "int8",
    IS_FILLED: "bool",
}

# -- canonical landing-file columns (what a retailer drops) -----------------------------------
# POS sales: date, store_id, item_id, units[, price][, dept_id, cat_id]
DATE = "date"
UNITS = "units"
PRICE = "price"

SEPARATOR = "__"


def series_id(store_id: pd.Series | str, item_id: pd.Series | str) -> pd.Series | str:
    """The ``unique_id`` of an item in a store."""
    return store_id + SEPARATOR + item_id


def split_series_id(unique_id: pd.Series) -> pd.DataFrame:
    """Inverse of :func:`series_id`: a frame with ``store_id`` and ``item_id``."""
    parts = unique_id.str.split(SEPARATOR, n=1, expand=True)
    return pd.DataFrame({STORE_ID: parts[0], ITEM_ID: parts[1]}, index=unique_id.index)


def state_of_store(store_id: pd.Series) -> pd.Series:
    """The state a store belongs to, by the M5 convention ``<STATE>_<n>`` (``CA_1`` -> ``CA``)."""
    return store_id.str.split("_", n=1).str[0]


def forecast_column(model: str, kind: str | None = None, level: int | None = None) -> str:
    """Forecast column names: ``<model>``, ``<model>-lo-<level>``, ``<model>-hi-<level>``."""
    if kind is None:
        return model
    if kind not in ("lo", "hi") or level is None:
        raise ValueError(f"kind must be 'lo' or 'hi' with a level, got {kind!r}, {level!r}")
    return f"{model}-{kind}-{level}"


def forecast_columns(model: str, levels: Sequence[int]) -> list[str]:
    """The point column, then ``lo`` and ``hi`` of each level in the order given."""
    columns = [forecast_column(model)]
    for level in levels:
        columns += [forecast_column(model, "lo", level), forecast_column(model, "hi", level)]
    return columns
