"""What the optimiser needs per series, assembled from the platform's tables.

Per series (an item in a store): the current price (the last known ``sell_price``), the
forecast daily demand at that price (mean of the forecast horizon), the item's elasticity and
its standard error, the unit cost and the stock.

Unit cost comes from the product catalogue (``products.unit_cost``) when present. Otherwise it
is assumed from a gross margin: ``unit_cost = current_price * (1 - default_margin)``, with
``default_margin`` 0.35 by default (a typical grocery/general-merchandise gross margin; set
``RETAILIQ_PRICING_DEFAULT_MARGIN``), and ``cost_source = "assumed_margin"`` says so. Stock
comes from an inventory table (``store_id, item_id, on_hand``) when one is given, else it is
assumed as ``assumed_cover_days`` of forecast demand (``stock_source = "assumed"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feature_store.future import last_known_price
from ml.schema import ITEM_ID, STORE_ID, UNIQUE_ID, UNIT_COST, split_series_id


def forecast_model(forecast: pd.DataFrame) -> str:
    """The model alias of a forecast frame: the column that has ``-hi-`` companions."""
    for column in forecast.columns:
        if any(str(other).startswith(f"{column}-hi-") for other in forecast.columns):
            return str(column)
    raise ValueError(f"no forecast column with intervals among {list(forecast.columns)}")


def pricing_inputs(
    forecast: pd.DataFrame,
    history: pd.DataFrame,
    elasticities: pd.DataFrame,
    products: pd.DataFrame | None = None,
    stock: pd.DataFrame | None = None,
    default_margin: float = 0.35,
    assumed_cover_days: float = 14.0,
) -> pd.DataFrame:
    """One row per forecast series with a price and an elasticity (see the module docstring)."""
    if not 0.0 <= default_margin < 1.0:
        raise ValueError(f"default_margin must lie in [0, 1), got {default_margin}")
    model = forecast_model(forecast)
    demand = forecast.groupby(UNIQUE_ID)[model].mean().clip(lower=0.0).rename("daily_demand")
    frame = demand.reset_index()
    frame = frame.join(split_series_id(frame[UNIQUE_ID]))
    prices = last_known_price(history[history[UNIQUE_ID].isin(frame[UNIQUE_ID])])
    frame["current_price"] = frame[UNIQUE_ID].map(prices)
    e = elasticities.set_index(ITEM_ID)
    frame["elasticity"] = frame[ITEM_ID].map(e["elasticity"])
    frame["elasticity_se"] = frame[ITEM_ID].map(e["se"])
    frame["elasticity_method"] = frame[ITEM_ID].map(e["method"])
    frame = frame[(frame["current_price"] > 0) & frame["elasticity"].notna()]
    frame = _unit_cost(frame, products, default_margin)
    return _stock(frame, stock, assumed_cover_days).reset_index(drop=True)


def _unit_cost(frame: pd.DataFrame, products, default_margin: float) -> pd.DataFrame:
    cost = pd.Series(np.nan, index=frame.index)
    if products is not None and UNIT_COST in products:
        known = products.dropna(subset=[UNIT_COST]).drop_duplicates(ITEM_ID, keep="last")
        cost = frame[ITEM_ID].map(known.set_index(ITEM_ID)[UNIT_COST])
    has = cost.notna() & (cost >= 0)
    assumed = frame["current_price"] * (1.0 - default_margin)
    return frame.assign(
        unit_cost=np.where(has, cost, assumed),
        cost_source=np.where(has, "catalogue", "assumed_margin"),
    )


def _stock(frame: pd.DataFrame, stock, assumed_cover_days: float) -> pd.DataFrame:
    assumed = np.round(frame["daily_demand"] * assumed_cover_days)
    frame = frame.assign(stock=assumed, stock_source="assumed")
    if stock is not None and not stock.empty:
        on_hand = stock.groupby([STORE_ID, ITEM_ID])["on_hand"].sum().rename("on_hand")
        merged = frame.join(on_hand, on=[STORE_ID, ITEM_ID])
        has = merged["on_hand"].notna()
        frame["stock"] = np.where(has, merged["on_hand"], frame["stock"])
        frame["stock_source"] = np.where(has, "inventory", "assumed")
    return frame


def read_inventory(path: str | None) -> pd.DataFrame | None:
    """The inventory table (CSV or Parquet: ``store_id, item_id, on_hand``), or None."""
    if not path:
        return None
    frame = pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(path)
    missing = {STORE_ID, ITEM_ID, "on_hand"} - set(frame.columns)
    if missing:
        raise ValueError(f"inventory file {path} lacks columns {sorted(missing)}")
    return frame
