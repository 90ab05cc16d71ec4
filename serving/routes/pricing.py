"""Price recommendations (list, one with its audit trail, accept, reject), item elasticities,
the optimiser on demand, and reorder points.

Reading and optimising need a reader key; accepting and rejecting a manager (or admin) key,
whose identity -- the role and a fingerprint of the key, never the key -- is stored as the
actor with the time. Handlers are plain ``def``: FastAPI runs them in the threadpool, so the
database work stays off the event loop.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from serving.auth import API_KEY_HEADER, manager, presented_key, reader, role_of
from serving.errors import ERROR_RESPONSES, ErrorBody
from serving.pricing import PricingService
from serving.pricing_schemas import (
    MAX_ID,
    Decision,
    Elasticity,
    OptimizeRequest,
    OptimizeResponse,
    RecommendationDetail,
    RecommendationPage,
    ReorderPoint,
    ReorderPointPage,
    Status,
    Strategy,
)
from serving.schemas import SeriesId

RESPONSES = {
    **ERROR_RESPONSES,
    404: {"model": ErrorBody, "description": "not_found"},
    409: {"model": ErrorBody, "description": "conflict"},
}
router = APIRouter(tags=["pricing"], responses=RESPONSES)
Limit = Annotated[int, Query(ge=1, le=500, description="Page size (at most 500).")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Rows to skip.")]
RecommendationId = Annotated[int, Path(ge=1, le=MAX_ID)]
Filter = Annotated[SeriesId | None, Query()]


def pricing_of(request: Request) -> PricingService:
    return request.app.state.pricing


def key_identity(key: str, role: str) -> str:
    """Who decided: the key's role and a fingerprint (the key itself is never stored)."""
    return f"{role}:{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def decision_actor(request: Request, header_key: str | None = Depends(API_KEY_HEADER)) -> str:
    """A manager or admin key (401/403 otherwise); returns its identity."""
    manager(request, header_key)
    settings = request.app.state.settings
    if not settings.auth_enabled:
        return "anonymous (API keys off)"
    key = presented_key(request, header_key)
    return key_identity(key, role_of(settings, key).value)


@router.get(
    "/v1/pricing/recommendations",
    response_model=RecommendationPage,
    dependencies=[Depends(reader)],
    summary="Price recommendations, newest batch by default",
)
def list_recommendations(
    request: Request,
    status: Status | None = None,
    item_id: Filter = None,
    store_id: Filter = None,
    strategy: Strategy | None = None,
    all_batches: bool = Query(False, description="Every batch, not only the newest."),
    limit: Limit = 100,
    offset: Offset = 0,
) -> RecommendationPage:
    """503 ``no_pricing_data`` until the price_recommendations asset has written a batch."""
    filters = {"status": status, "item_id": item_id, "store_id": store_id, "strategy": strategy}
    rows, next_offset = pricing_of(request).recommendations(filters, all_batches, limit, offset)
    return RecommendationPage(
        recommendations=rows,
        batch="all" if all_batches else "latest",
        limit=limit,
        offset=offset,
        next_offset=next_offset,
    )


@router.get(
    "/v1/pricing/recommendations/{recommendation_id}",
    response_model=RecommendationDetail,
    dependencies=[Depends(reader)],
    summary="One recommendation with every status change",
)
def get_recommendation(
    request: Request, recommendation_id: RecommendationId
) -> RecommendationDetail:
    return RecommendationDetail(**pricing_of(request).recommendation(recommendation_id))


def _decide(request: Request, recommendation_id: int, status: str, actor: str, body) -> dict:
    note = body.note if body is not None else None
    return pricing_of(request).decide(recommendation_id, status, actor, note)


@router.post(
    "/v1/pricing/recommendations/{recommendation_id}/accept",
    response_model=RecommendationDetail,
    summary="Accept a pending recommendation (manager)",
)
def accept(
    request: Request,
    recommendation_id: RecommendationId,
    body: Decision | None = None,
    actor: str = Depends(decision_actor),
) -> RecommendationDetail:
    """404 for an unknown id, 409 unless it is pending (accepted, rejected or expired)."""
    return RecommendationDetail(**_decide(request, recommendation_id, "accepted", actor, body))


@router.post(
    "/v1/pricing/recommendations/{recommendation_id}/reject",
    response_model=RecommendationDetail,
    summary="Reject a pending recommendation (manager)",
)
def reject(
    request: Request,
    recommendation_id: RecommendationId,
    body: Decision | None = None,
    actor: str = Depends(decision_actor),
) -> RecommendationDetail:
    """404 for an unknown id, 409 unless it is pending (accepted, rejected or expired)."""
    return RecommendationDetail(**_decide(request, recommendation_id, "rejected", actor, body))


@router.get(
    "/v1/pricing/elasticity/{item_id}",
    response_model=Elasticity,
    dependencies=[Depends(reader)],
    summary="An item's price elasticity with its 90 % interval",
)
def elasticity(request: Request, item_id: Annotated[SeriesId, Path()]) -> Elasticity:
    """From the newest price_elasticity batch; 404 for an item it does not hold."""
    return Elasticity(**pricing_of(request).elasticity(item_id))


@router.post(
    "/v1/pricing/optimize",
    response_model=OptimizeResponse,
    dependencies=[Depends(reader)],
    summary="The recommended price for a strategy, bounds and stock",
)
def optimize(request: Request, body: OptimizeRequest) -> OptimizeResponse:
    """A stored item's inputs are the defaults; explicit ones win (``sources`` says which)."""
    return OptimizeResponse(**pricing_of(request).optimize(body))


@router.get(
    "/v1/inventory/reorder-points",
    response_model=ReorderPointPage,
    dependencies=[Depends(reader)],
    tags=["inventory"],
    summary="Reorder points, order quantities and stock-out alerts per series",
)
def reorder_points(
    request: Request,
    item_id: Filter = None,
    store_id: Filter = None,
    alerts_only: bool = Query(False, description="Only series whose stock is below it."),
    limit: Limit = 100,
    offset: Offset = 0,
) -> ReorderPointPage:
    """503 ``no_pricing_data`` until the reorder_points asset has written a batch."""
    rows, next_offset = pricing_of(request).reorder_points(
        item_id, store_id, alerts_only, limit, offset
    )
    return ReorderPointPage(
        reorder_points=[ReorderPoint(**row) for row in rows],
        limit=limit,
        offset=offset,
        next_offset=next_offset,
    )
