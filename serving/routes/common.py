"""Small helpers the route modules share."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import Request, Response

from serving.service import LoadedModel, ModelService


def service_of(request: Request) -> ModelService:
    return request.app.state.service


def json_response(payload: dict, status: int = 200) -> Response:
    """Compact JSON, encoded once (no response-model re-validation on the hot path)."""
    body = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return Response(body.encode(), status_code=status, media_type="application/json")


def json_with_items(payload: dict, key: str, items: list[str]) -> Response:
    """``payload`` plus ``key``: a list of already-encoded JSON values (joined, not re-encoded)."""
    head = json.dumps(payload, separators=(",", ":"), allow_nan=False)[:-1]
    body = f'{head},"{key}":[{",".join(items)}]}}'
    return Response(body.encode(), media_type="application/json")


def answer_meta(model: LoadedModel, h: int, levels: list[int], unknown: list[str]) -> dict:
    return {
        "model_name": model.name,
        "model_version": model.version,
        "alias": model.alias,
        "generated_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "horizon": h,
        "levels": levels,
        "unknown_series": unknown,
    }
