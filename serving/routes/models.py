"""What the registry holds: versions, aliases, key metrics and tags."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from serving.auth import reader
from serving.errors import ERROR_RESPONSES, ServingError
from serving.routes.common import service_of
from serving.schemas import ModelsResponse
from serving.service import version_info

router = APIRouter(
    prefix="/v1", tags=["models"], responses=ERROR_RESPONSES, dependencies=[Depends(reader)]
)


@router.get(
    "/models",
    response_model=ModelsResponse,
    summary="Registered versions of the served model",
)
async def models(
    request: Request, limit: int = Query(20, ge=1, le=200, description="Newest versions first.")
) -> ModelsResponse:
    service = service_of(request)
    try:
        aliases, versions = await run_in_threadpool(service.registry.versions, limit)
    except Exception as error:
        raise ServingError(
            503,
            "registry_unavailable",
            f"the model registry cannot be reached: {type(error).__name__}",
        ) from error
    served, aliases = service.current, {k: str(v) for k, v in aliases.items()}
    return ModelsResponse(
        model_name=service.settings.model_name,
        served_alias=service.settings.alias,
        served_version=served.version if served else None,
        aliases=aliases,
        versions=[version_info(v, aliases) for v in versions],
    )
