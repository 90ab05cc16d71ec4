"""Reorder points, safety stock and order quantities from the demand forecast's distribution.

Per series (an item in a store), from the daily forecast with its ``level`` % interval:

* daily sigma: ``(hi - mean) / z(level)`` -- the upper half-width, because stock-outs live in
  the upper tail and the conformal intervals can be asymmetric (clipped at zero below);
* lead-time demand: mean ``sum of the daily means`` and sigma ``sqrt(sum of daily sigma^2)``
  over the first ``lead_time`` forecast days (days treated as independent; positive
  autocorrelation would make the true spread wider). Days past the forecast horizon repeat the
  average of the last 7 forecast days;
* reorder point ``ROP = mean_L + z(service_level) * sigma_L``; safety stock ``z * sigma_L``;
* order quantity (periodic review, order-up-to): the target covers the lead time plus one review
  period, ``S = mean_(L+R) + z * sigma_(L+R)``, and the order is ``max(0, S - stock)``, placed
  when the stock is at or below the reorder point (``order_now``).

Stock comes from an inventory table when the retailer provides one; otherwise it is assumed
(``assumed_cover_days`` of forecast demand) and ``stock_source = "assumed"`` says so, because a
stock-out alert on an assumed stock is only an illustration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from ml.schema import DS, ITEM_ID, STORE_ID, UNIQUE_ID, forecast_column, split_series_id

TAIL_DAYS = 7


@dataclass(frozen=True)
class InventoryPolicy:
    """Service level, lead times and review period (lead time per item, with a default)."""

    service_level: float = 0.95
    lead_time_days: int = 7
    lead_time_by_item: Mapping[str, int] = field(default_factory=dict)
    review_period_days: int = 7
    assumed_cover_days: float = 14.0

    def __post_init__(self) -> None:
        if not 0.5 <= self.service_level < 1.0:
            raise ValueError(f"service_level must lie in [0.5, 1), got {self.service_level}")
        days = [self.lead_time_days, *self.lead_time_by_item.values()]
        if min(days) < 1 or self.review_period_days < 0:
            raise ValueError("lead times must be >= 1 day and the review period >= 0")

    def lead_time(self, item_id: str) -> int:
        return int(self.lead_time_by_item.get(item_id, self.lead_time_days))


def daily_distribution(forecast: pd.DataFrame, model: str, level: int) -> pd.DataFrame:
    """``unique_id, ds, mean, sigma`` per forecast day from the point and the upper bound."""
    z = norm.ppf(0.5 + level / 200.0)
    mean = forecast[model].clip(lower=0.0).to_numpy(float)
    hi = forecast[forecast_column(model, "hi", level)].to_numpy(float)
    sigma = np.maximum(hi - mean, 0.0) / z
    out = pd.DataFrame(
        {
            UNIQUE_ID: forecast[UNIQUE_ID].to_numpy(),
            DS: forecast[DS].to_numpy(),
            "mean": mean,
            "sigma": sigma,
        }
    )
    return out.sort_values([UNIQUE_ID, DS], kind="stable").reset_index(drop=True)


def demand_over(daily: pd.DataFrame, days: pd.Series) -> pd.DataFrame:
    """Mean and sigma of the demand over the first ``days[unique_id]`` forecast days."""
    step = daily.groupby(UNIQUE_ID, sort=False).cumcount() + 1
    horizon = daily[UNIQUE_ID].map(days).to_numpy()
    inside = daily[step.to_numpy() <= horizon]
    sums = inside.assign(var=inside["sigma"] ** 2).groupby(UNIQUE_ID)[["mean", "var"]].sum()
    tail = daily.groupby(UNIQUE_ID).tail(TAIL_DAYS).assign(var=lambda f: f["sigma"] ** 2)
    per_day = tail.groupby(UNIQUE_ID)[["mean", "var"]].mean()
    extra = (days - daily.groupby(UNIQUE_ID).size()).clip(lower=0)
    sums = sums.reindex(days.index, fill_value=0.0) + per_day.mul(extra, axis=0)
    return pd.DataFrame({"mean": sums["mean"], "sigma": np.sqrt(sums["var"])})


def reorder_points(
    forecast: pd.DataFrame,
    model: str,
    level: int,
    policy: InventoryPolicy = InventoryPolicy(),  # noqa: B008
    stock: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per series: lead time, lead-time demand, safety stock, reorder point, order-up-to
    level, stock (and its source), order quantity, ``order_now`` and ``stockout_alert``.

    ``stock``: optional ``store_id, item_id, on_hand``; series missing from it are assumed.
    """
    daily = daily_distribution(forecast, model, level)
    ids = pd.Index(daily[UNIQUE_ID].unique(), name=UNIQUE_ID)
    keys = split_series_id(ids.to_series()).set_index(ids)
    lead = keys[ITEM_ID].map(policy.lead_time).astype("int64")
    z = float(norm.ppf(policy.service_level))
    over_lead = demand_over(daily, lead)
    over_cycle = demand_over(daily, lead + policy.review_period_days)
    daily_mean = daily.groupby(UNIQUE_ID)["mean"].mean().reindex(ids)
    out = keys.assign(
        lead_time_days=lead,
        service_level=policy.service_level,
        daily_demand=daily_mean,
        lead_time_demand=over_lead["mean"],
        lead_time_sigma=over_lead["sigma"],
    )
    out["safety_stock"] = z * over_lead["sigma"]
    out["reorder_point"] = over_lead["mean"] + out["safety_stock"]
    out["order_up_to"] = over_cycle["mean"] + z * over_cycle["sigma"]
    out = _attach_stock(out, stock, policy)
    out["order_now"] = out["stock"] <= out["reorder_point"]
    out["order_quantity"] = np.where(
        out["order_now"], np.ceil(np.maximum(out["order_up_to"] - out["stock"], 0.0)), 0.0
    )
    out["stockout_alert"] = out["stock"] < out["reorder_point"]
    return out.reset_index()


def _attach_stock(
    out: pd.DataFrame, stock: pd.DataFrame | None, policy: InventoryPolicy
) -> pd.DataFrame:
    assumed = np.round(out["daily_demand"] * policy.assumed_cover_days)
    out["stock"], out["stock_source"] = assumed, "assumed"
    if stock is not None and not stock.empty:
        known = stock.groupby([STORE_ID, ITEM_ID])["on_hand"].sum()
        found = pd.MultiIndex.from_frame(out[[STORE_ID, ITEM_ID]]).map(
            lambda key: known.get(key, np.nan)
        )
        found = np.asarray(found, dtype=float)
        has = np.isfinite(found)
        out["stock"] = np.where(has, found, out["stock"])
        out["stock_source"] = np.where(has, "inventory", "assumed")
    return out
