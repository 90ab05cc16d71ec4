"""Request and response bodies, with bounds (the OpenAPI at ``/docs`` is generated from them).

The per-request limits that come from settings (series per request, the model's horizon) are
checked by the service, since a schema cannot know them; the bounds here are the hard ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

HARD_MAX_SERIES = 100_000
SeriesId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Level = Annotated[int, Field(gt=0, lt=100)]
Horizon = Annotated[int, Field(ge=1, le=366)]

HORIZON_DOC = "Days ahead, 1 up to the model's maximum (default: that maximum)."
LEVELS_DOC = "Interval levels in percent (default 80 and 95); [] for the point only."


class ForecastRequest(BaseModel):
    """Series by id, or a store (all its items, or the ones listed)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"series_ids": ["CA_1__FOODS_3_090"], "horizon": 7, "levels": [80, 95]},
                {"store_id": "CA_1", "item_ids": ["FOODS_3_090", "FOODS_3_586"], "horizon": 28},
            ]
        },
    )

    series_ids: list[SeriesId] | None = Field(None, min_length=1, max_length=HARD_MAX_SERIES)
    store_id: SeriesId | None = None
    item_ids: list[SeriesId] | None = Field(None, min_length=1, max_length=HARD_MAX_SERIES)
    horizon: Horizon | None = Field(None, description=HORIZON_DOC)
    levels: list[Level] | None = Field(None, max_length=10, description=LEVELS_DOC)

    @model_validator(mode="after")
    def _one_selector(self) -> ForecastRequest:
        if (self.series_ids is None) == (self.store_id is None):
            raise ValueError("give either series_ids or store_id (with optional item_ids)")
        if self.item_ids is not None and self.store_id is None:
            raise ValueError("item_ids need a store_id")
        return self


class PriceScenario(BaseModel):
    """A future price for one series over the whole horizon: absolute, or a discount."""

    model_config = ConfigDict(extra="forbid")

    series_id: SeriesId
    price: float | None = Field(None, gt=0, le=1_000_000, description="New unit price.")
    discount_pct: float | None = Field(
        None, ge=0, lt=100, description="Discount off the last known price, in percent."
    )

    @model_validator(mode="after")
    def _one_price(self) -> PriceScenario:
        if (self.price is None) == (self.discount_pct is None):
            raise ValueError("give exactly one of price or discount_pct")
        return self


class ScenarioRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "scenarios": [{"series_id": "CA_1__FOODS_3_090", "discount_pct": 20}],
                    "horizon": 14,
                },
            ]
        },
    )

    scenarios: list[PriceScenario] = Field(min_length=1, max_length=HARD_MAX_SERIES)
    horizon: Horizon | None = Field(None, description=HORIZON_DOC)
    levels: list[Level] | None = Field(None, max_length=10, description=LEVELS_DOC)

    @model_validator(mode="after")
    def _distinct_series(self) -> ScenarioRequest:
        ids = [s.series_id for s in self.scenarios]
        if len(set(ids)) != len(ids):
            raise ValueError("each series may appear in one scenario only")
        return self


class ForecastRow(BaseModel):
    """One day: the predicted quantity and ``lower_<level>`` / ``upper_<level>`` bounds."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [{"date": "2016-05-23", "quantity": 1.84, "lower_80": 0.4, "upper_80": 3.5}]
        },
    )
    __pydantic_extra__: dict[str, float | None]

    date: str = Field(description="ISO day.")
    quantity: float | None


class SeriesForecast(BaseModel):
    series_id: str
    store_id: str | None
    item_id: str | None
    rows: list[ForecastRow]


class ForecastMeta(BaseModel):
    model_name: str
    model_version: str
    alias: str
    generated_at: datetime
    horizon: int
    levels: list[int]
    unknown_series: list[str] = Field(description="Requested ids the model does not know.")


class ForecastResponse(ForecastMeta):
    forecasts: list[SeriesForecast]


class ScenarioRow(ForecastRow):
    """A what-if day: ``quantity`` at the scenario price, ``baseline_quantity`` without it."""

    baseline_quantity: float | None


class ScenarioForecast(BaseModel):
    series_id: str
    store_id: str | None
    item_id: str | None
    price: float
    base_price: float | None = Field(description="Last known price (the baseline's).")
    rows: list[ScenarioRow]


class ScenarioResponse(ForecastMeta):
    forecasts: list[ScenarioForecast]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "degraded", "not_ready"]
    model_name: str
    alias: str
    model_version: str | None = None
    loaded_at: datetime | None = None
    last_check: datetime | None = None
    reason: str | None = None
    shadow_alias: str | None = None
    shadow_version: str | None = None


class ModelVersionInfo(BaseModel):
    version: str
    aliases: list[str]
    status: str | None
    run_id: str | None
    created_at: datetime | None
    description: str | None
    metrics: dict[str, float]
    tags: dict[str, str]


class ModelsResponse(BaseModel):
    model_name: str
    served_alias: str
    served_version: str | None
    aliases: dict[str, str]
    versions: list[ModelVersionInfo]


class ReloadResponse(BaseModel):
    changed: bool
    model_version: str
    previous_version: str | None
