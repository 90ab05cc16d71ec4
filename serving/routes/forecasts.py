"""Forecasts by series id or store, and what-if price scenarios."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from serving.auth import reader
from serving.errors import ERROR_RESPONSES
from serving.routes.common import answer_meta, json_response, json_with_items, service_of
from serving.schemas import ForecastRequest, ForecastResponse, ScenarioRequest, ScenarioResponse

router = APIRouter(prefix="/v1/forecasts", tags=["forecasts"], dependencies=[Depends(reader)])


@router.post(
    "",
    response_model=ForecastResponse,
    responses=ERROR_RESPONSES,
    summary="Daily quantity with interval bounds per series",
)
async def forecasts(
    body: ForecastRequest, request: Request, background: BackgroundTasks
) -> Response:
    """Ids the model does not know are listed in ``unknown_series``; the others are answered.
    The precomputed levels are a table lookup; other levels go through the model."""
    service = service_of(request)
    model = service.model()
    known, unknown = service.resolve(model, body)
    h, levels = service.horizon_and_levels(model, body.horizon, body.levels)
    if set(levels) <= set(model.table.levels):
        answers = service.forecast(model, known, h, levels)
    else:
        answers = await run_in_threadpool(service.forecast, model, known, h, levels)
    if service.shadow is not None and known:
        background.add_task(service.log_shadow, model, known, h)
    return json_with_items(answer_meta(model, h, levels, unknown), "forecasts", answers)


@router.post(
    "/scenarios",
    response_model=ScenarioResponse,
    responses=ERROR_RESPONSES,
    summary="What-if: the forecast at a new price or discount per series",
)
async def scenarios(body: ScenarioRequest, request: Request) -> Response:
    """Answered by the model's price response (the price-sensitive members forecast again with
    the scenario price on every day of the horizon); ``baseline_quantity`` is the forecast at
    the last known price."""
    service = service_of(request)
    model = service.model()
    h, levels = service.horizon_and_levels(model, body.horizon, body.levels)
    answers, unknown = await run_in_threadpool(service.scenarios, model, body, h, levels)
    return json_response({**answer_meta(model, h, levels, unknown), "forecasts": answers})
