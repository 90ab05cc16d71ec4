"""Request and response bodies of the pricing and inventory routes, with bounds.

The hard bounds keep every answer finite (prices up to 1,000,000, elasticities in [-20, 5]);
what depends on the stored data (an unknown item, an input neither given nor stored) is
checked by :mod:`serving.pricing`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ml.pricing.optimizer import PriceBounds
from serving.schemas import SeriesId

Strategy = Literal["profit", "revenue", "volume", "clearance"]
Status = Literal["pending", "accepted", "rejected", "expired"]
Price = Annotated[float, Field(ge=0.01, le=1_000_000)]
MAX_ID = 2**31 - 1
EXPLICIT_INPUTS = ("current_price", "unit_cost", "elasticity", "daily_demand")


class BoundsOverride(BaseModel):
    """Overrides of the business bounds; unset fields keep the defaults of the design."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    min_markup: float | None = Field(
        None, ge=0, le=100, description="Price floor as a multiple of unit cost (default 1.1)."
    )
    max_price_ratio: float | None = Field(
        None, gt=0, le=100, description="Price cap as a multiple of the current price (default 2)."
    )
    max_step: float | None = Field(
        None, gt=0, lt=1, description="Largest change per step as a fraction (default 0.10)."
    )
    min_price: Price | None = Field(None, description="Explicit floor (the higher floor wins).")
    max_price: Price | None = Field(None, description="Explicit cap (the lower cap wins).")

    @model_validator(mode="after")
    def _ordered(self) -> BoundsOverride:
        low, high = self.min_price, self.max_price
        if low is not None and high is not None and low >= high:
            raise ValueError(f"min_price {low} must be below max_price {high}")
        return self

    def to_bounds(self) -> PriceBounds:
        return PriceBounds(**self.model_dump(exclude_none=True))


class OptimizeRequest(BaseModel):
    """A known item (its stored inputs are the defaults) and/or explicit inputs."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {"item_id": "FOODS_3_090", "store_id": "CA_1", "strategy": "profit"},
                {
                    "current_price": 5.0,
                    "unit_cost": 3.0,
                    "elasticity": -2.0,
                    "daily_demand": 4.0,
                    "strategy": "clearance",
                    "stock": 150,
                    "clearance_days": 30,
                    "bounds": {"max_step": 0.15},
                },
            ]
        },
    )

    item_id: SeriesId | None = Field(None, description="Stored item whose inputs are defaults.")
    store_id: SeriesId | None = Field(None, description="Store of the series (with item_id).")
    strategy: Strategy = "profit"
    current_price: Price | None = None
    unit_cost: float | None = Field(None, ge=0, le=1_000_000)
    elasticity: float | None = Field(None, ge=-20, le=5)
    elasticity_se: float | None = Field(None, ge=0, le=10, description="Default: stored, or 0.")
    daily_demand: float | None = Field(
        None, ge=0, le=10_000_000, description="Expected units per day at the current price."
    )
    stock: float | None = Field(None, ge=0, le=1_000_000_000, description="Units on hand.")
    clearance_days: float | None = Field(
        None, ge=1, le=366, description="Days to clear the stock (needed by clearance)."
    )
    horizon_days: float = Field(28.0, ge=1, le=366, description="Days the expectations cover.")
    bounds: BoundsOverride | None = None

    @model_validator(mode="after")
    def _complete(self) -> OptimizeRequest:
        if self.store_id is not None and self.item_id is None:
            raise ValueError("store_id needs an item_id")
        if self.item_id is None:
            absent = [f for f in EXPLICIT_INPUTS if getattr(self, f) is None]
            if absent:
                raise ValueError(f"without an item_id, give {', '.join(absent)}")
        if self.strategy == "clearance":
            if self.clearance_days is None:
                raise ValueError("the clearance strategy needs clearance_days")
            if self.stock is None and self.item_id is None:
                raise ValueError("the clearance strategy needs the stock (or a stored item)")
        return self


class Bounds(BaseModel):
    min_markup: float
    max_price_ratio: float
    max_step: float
    min_price: float | None
    max_price: float | None


class OptimizeResponse(BaseModel):
    """The recommendation, the inputs it used and where each input came from."""

    item_id: str | None
    store_id: str | None
    strategy: Strategy
    current_price: float
    unit_cost: float
    elasticity: float
    elasticity_se: float
    daily_demand: float
    stock: float | None
    horizon_days: float
    clearance_days: float | None
    recommended_price: float
    change_pct: float
    expected_units: float = Field(description="Expected demand over the horizon (clearance days).")
    expected_revenue: float
    expected_profit: float
    current_units: float
    current_profit: float
    confidence: float = Field(description="Share of the elasticity's quantiles moving this way.")
    confidence_label: Literal["high", "medium", "low"]
    price_floor: float
    price_cap: float
    bounds_conflict: bool
    reasoning: str
    bounds: Bounds
    sources: dict[str, str] = Field(
        description="Per input: request, elasticities, recommendations, reorder_points, default."
    )


class Recommendation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    batch_id: str
    series_id: str
    store_id: str | None = None
    item_id: str | None = None
    strategy: str
    current_price: float | None = None
    recommended_price: float | None = None
    change_pct: float | None = None
    unit_cost: float | None = None
    cost_source: str | None = None
    expected_units: float | None = None
    expected_revenue: float | None = None
    expected_profit: float | None = None
    elasticity: float | None = None
    elasticity_method: str | None = None
    confidence: float | None = None
    confidence_label: str | None = None
    reasoning: str | None = None
    status: Status
    status_by: str | None = Field(None, description="Who set the status (system when written).")
    status_at: datetime | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    created_at: datetime


class StatusEvent(BaseModel):
    from_status: str | None
    to_status: str
    actor: str
    note: str | None
    at: datetime


class RecommendationDetail(Recommendation):
    history: list[StatusEvent] = Field(description="Every status change, oldest first.")


class Page(BaseModel):
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")


class RecommendationPage(Page):
    batch: Literal["latest", "all"]
    recommendations: list[Recommendation]


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=1000, description="Why (kept in the audit trail).")


class Elasticity(BaseModel):
    model_config = ConfigDict(extra="ignore")

    item_id: str
    dept_id: str | None = None
    cat_id: str | None = None
    elasticity: float | None = Field(description="Null when the method is insufficient.")
    se: float | None = None
    lo_90: float | None = None
    hi_90: float | None = None
    n_price_changes: int | None = None
    n_weeks: int | None = None
    n_stores: int | None = None
    method: str | None = Field(None, description="item, shrunk, pooled or insufficient.")
    raw_elasticity: float | None = None
    raw_se: float | None = None
    batch_id: str
    created_at: datetime


class ReorderPoint(BaseModel):
    model_config = ConfigDict(extra="ignore")

    series_id: str
    store_id: str | None = None
    item_id: str | None = None
    lead_time_days: int | None = None
    service_level: float | None = None
    daily_demand: float | None = None
    lead_time_demand: float | None = None
    lead_time_sigma: float | None = None
    safety_stock: float | None = None
    reorder_point: float | None = None
    order_up_to: float | None = None
    stock: float | None = None
    stock_source: str | None = Field(None, description="inventory, or assumed.")
    order_now: bool | None = None
    order_quantity: float | None = None
    stockout_alert: bool | None = None
    batch_id: str
    created_at: datetime


class ReorderPointPage(Page):
    reorder_points: list[ReorderPoint]
