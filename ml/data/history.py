"""Assemble the validated long ``sales_history`` frame from normalised lake tables.

Inputs are the canonical lake tables the ingestion writes (``ml.data.normalise``; any
optional column may be absent):

* sales: ``date, store_id, item_id, units[, price][, dept_id, cat_id]``
* prices: ``date, store_id, item_id, price`` -- a price holds from its date until the next one
* calendar: ``date[, event_name_1, event_type_1, event_name_2, event_type_2][, snap]
  [, snap_<STATE>...][, d, wm_yr_wk]``
* products: ``item_id, dept_id, cat_id[, unit_cost]``

The output is dense per series: every day from the series' first record to the last day its
store reported (POS feeds often omit zero-sale rows, so a quiet item's missing days are real
zeros; a store that has not reported yet is not). Filled days get ``y = 0`` and
``is_filled = True``. A day whose net units are negative (returns exceeded sales) keeps its
sign in the lake and is ``y = 0`` here.

SNAP comes from ``snap_<STATE>`` matched to the store's state (``CA_1`` -> ``snap_CA``) and,
where that is unknown for a day, from a store-wide ``snap`` column: both kinds can coexist when
an M5 calendar and a flat events calendar have landed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.schema import (
    CAT_ID,
    DATE,
    DEPT_ID,
    DS,
    EVENT_COLUMNS,
    IS_FILLED,
    ITEM_ID,
    PRICE,
    SALES_HISTORY_COLUMNS,
    SELL_PRICE,
    SNAP,
    STORE_ID,
    UNIQUE_ID,
    UNITS,
    Y,
    series_id,
    state_of_store,
)

SNAP_PREFIX = "snap_"


def build_sales_history(
    sales: pd.DataFrame,
    prices: pd.DataFrame | None = None,
    calendar: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Dense, typed long frame following ``ml.schema.SALES_HISTORY_COLUMNS``."""
    if sales.empty:
        raise ValueError("no sales rows: nothing to build a history from")
    dense = _densify(sales)
    dense = _attach_hierarchy(dense, sales, products)
    dense = _attach_prices(dense, sales, prices)
    dense = _attach_calendar(dense, calendar)
    return _finalise(dense)


def _densify(sales: pd.DataFrame) -> pd.DataFrame:
    """One row per series and day from its first record to its store's last reported day."""
    keys = sales[[STORE_ID, ITEM_ID, DATE, UNITS]].copy()
    keys[DATE] = pd.to_datetime(keys[DATE]).dt.normalize()
    store_last = keys.groupby(STORE_ID)[DATE].max()
    first = keys.groupby([STORE_ID, ITEM_ID], sort=True, observed=True)[DATE].min()
    last = store_last.reindex(first.index.get_level_values(STORE_ID)).to_numpy()
    n_days = ((last - first.to_numpy()) // np.timedelta64(1, "D") + 1).astype("int64")
    starts = first.to_numpy().astype("datetime64[D]")
    offsets = np.arange(n_days.sum()) - np.repeat(np.cumsum(n_days) - n_days, n_days)
    frame = pd.DataFrame(
        {
            STORE_ID: np.repeat(first.index.get_level_values(STORE_ID).to_numpy(), n_days),
            ITEM_ID: np.repeat(first.index.get_level_values(ITEM_ID).to_numpy(), n_days),
            DS: (np.repeat(starts, n_days) + offsets.astype("timedelta64[D]")).astype(
                "datetime64[ns]"
            ),
        }
    )
    observed = keys.rename(columns={DATE: DS, UNITS: Y})
    frame = frame.merge(observed, on=[STORE_ID, ITEM_ID, DS], how="left", validate="one_to_one")
    frame[IS_FILLED] = frame[Y].isna()
    # A negative day is net returns (kept as landed in the lake); the models see no sales.
    frame[Y] = frame[Y].fillna(0.0).clip(lower=0.0).astype("float64")
    return frame


def _attach_hierarchy(
    frame: pd.DataFrame, sales: pd.DataFrame, products: pd.DataFrame | None
) -> pd.DataFrame:
    """Department and category from the catalogue, else from the sales file, else the item id."""
    sources = []
    if products is not None and not products.empty:
        sources.append(products[[ITEM_ID, DEPT_ID, CAT_ID]])
    if {DEPT_ID, CAT_ID} <= set(sales.columns):
        sources.append(sales[[ITEM_ID, DEPT_ID, CAT_ID]])
    if sources:
        lookup = pd.concat(sources).dropna().drop_duplicates(ITEM_ID, keep="first")
        frame = frame.merge(lookup, on=ITEM_ID, how="left")
    else:
        frame[DEPT_ID] = np.nan
        frame[CAT_ID] = np.nan
    # M5-style ids carry the hierarchy: FOODS_3_090 -> dept FOODS_3, cat FOODS.
    parts = frame[ITEM_ID].str.rsplit("_", n=1).str[0]
    frame[DEPT_ID] = frame[DEPT_ID].fillna(parts)
    frame[CAT_ID] = frame[CAT_ID].fillna(parts.str.split("_", n=1).str[0])
    return frame


def _attach_prices(
    frame: pd.DataFrame, sales: pd.DataFrame, prices: pd.DataFrame | None
) -> pd.DataFrame:
    """Price on each day: the POS price where sold, else the latest price list entry (as-of)."""
    frame = frame.sort_values(DS, kind="stable")
    frame[SELL_PRICE] = np.nan
    if prices is not None and not prices.empty:
        plist = prices[[STORE_ID, ITEM_ID, DATE, PRICE]].rename(columns={DATE: DS})
        plist = plist.assign(**{DS: pd.to_datetime(plist[DS])}).sort_values(DS, kind="stable")
        frame = pd.merge_asof(frame, plist, on=DS, by=[STORE_ID, ITEM_ID], direction="backward")
        frame[SELL_PRICE] = frame.pop(PRICE)
    if PRICE in sales.columns:
        pos = sales[[STORE_ID, ITEM_ID, DATE, PRICE]].rename(columns={DATE: DS, PRICE: "_pos"})
        pos = pos.assign(**{DS: pd.to_datetime(pos[DS])})
        frame = frame.merge(pos, on=[STORE_ID, ITEM_ID, DS], how="left")
        frame[SELL_PRICE] = frame.pop("_pos").fillna(frame[SELL_PRICE])
    return frame


def _attach_calendar(frame: pd.DataFrame, calendar: pd.DataFrame | None) -> pd.DataFrame:
    """Events by day; SNAP by the store's state (``snap_<STATE>``), else a store-wide ``snap``."""
    if calendar is None or calendar.empty:
        for column in EVENT_COLUMNS:
            frame[column] = None
        frame[SNAP] = 0
        return frame
    cal = calendar.rename(columns={DATE: DS}).copy()
    cal[DS] = pd.to_datetime(cal[DS])
    for column in EVENT_COLUMNS:
        if column not in cal:
            cal[column] = None
    frame = frame.merge(cal[[DS, *EVENT_COLUMNS]], on=DS, how="left")
    frame[SNAP] = _snap_by_state(frame, cal)
    return frame


def _snap_by_state(frame: pd.DataFrame, cal: pd.DataFrame) -> np.ndarray:
    """The store's own state's flag where the calendar has one for that day, else the
    store-wide flag, else 0. Both kinds of column may exist (an M5 calendar and a flat events
    file merged by column)."""
    flags = np.full(len(frame), np.nan)
    state_columns = [c for c in cal.columns if c.startswith(SNAP_PREFIX)]
    if state_columns:
        long = cal.melt(id_vars=[DS], value_vars=state_columns, var_name="_state", value_name="_f")
        long["_state"] = long["_state"].str.removeprefix(SNAP_PREFIX).str.upper()
        state = state_of_store(frame[STORE_ID]).str.upper()
        keyed = pd.DataFrame({DS: frame[DS].to_numpy(), "_state": state.to_numpy()})
        flags = keyed.merge(long, on=[DS, "_state"], how="left")["_f"].to_numpy(dtype=float)
    if SNAP in cal:
        wide = frame[[DS]].merge(cal[[DS, SNAP]], on=DS, how="left")[SNAP].to_numpy(dtype=float)
        flags = np.where(np.isnan(flags), wide, flags)
    return np.nan_to_num(flags, nan=0.0).astype("int8")


def _finalise(frame: pd.DataFrame) -> pd.DataFrame:
    frame[UNIQUE_ID] = series_id(frame[STORE_ID], frame[ITEM_ID])
    frame[SNAP] = frame[SNAP].astype("int8")
    for column in EVENT_COLUMNS:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    frame = frame[SALES_HISTORY_COLUMNS].sort_values([UNIQUE_ID, DS], kind="stable")
    return frame.reset_index(drop=True)
