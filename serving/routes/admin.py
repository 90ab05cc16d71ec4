"""Operator actions (admin role)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from serving.auth import admin
from serving.errors import ERROR_RESPONSES, ServingError
from serving.routes.common import service_of
from serving.schemas import ReloadResponse

router = APIRouter(
    prefix="/v1/admin", tags=["admin"], responses=ERROR_RESPONSES, dependencies=[Depends(admin)]
)


@router.post(
    "/reload",
    response_model=ReloadResponse,
    summary="Load the alias's version now",
)
async def reload(request: Request) -> ReloadResponse:
    """Reload even when the alias has not moved; the served version keeps answering meanwhile."""
    service = service_of(request)
    changed, previous = await run_in_threadpool(service.refresh, True)
    if not changed:
        raise ServingError(503, "reload_failed", f"the model was not reloaded: {service.problem}")
    return ReloadResponse(
        changed=previous != service.model().version,
        model_version=service.model().version,
        previous_version=previous,
    )
