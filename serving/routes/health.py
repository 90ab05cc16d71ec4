"""Liveness, readiness and Prometheus metrics (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from serving.routes.common import json_response, service_of
from serving.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="The process is alive")
async def health() -> Health:
    return Health()


@router.get(
    "/ready",
    response_model=Readiness,
    summary="A model is loaded (and which)",
    responses={503: {"model": Readiness, "description": "no model loaded yet"}},
)
async def ready(request: Request) -> Response:
    service, settings = service_of(request), request.app.state.settings
    model, shadow = service.current, service.shadow
    status = "not_ready" if model is None else "degraded" if service.problem else "ready"
    body = Readiness(
        status=status,
        model_name=settings.model_name,
        alias=settings.alias,
        model_version=model.version if model else None,
        loaded_at=model.loaded_at if model else None,
        last_check=service.last_check,
        reason=service.problem,
        shadow_alias=settings.shadow_alias,
        shadow_version=shadow.version if shadow else None,
    )
    return json_response(body.model_dump(mode="json"), 503 if model is None else 200)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics
    return Response(registry.render(), media_type=registry.content_type)
