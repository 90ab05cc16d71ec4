"""One error shape for every failure: ``{"name", "message", "request_id"}``.

Invalid requests get a 4xx naming what was wrong; anything unexpected is logged with its trace
and answered with a 500 that carries only the request id (never the trace).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.logging import current_request_id

log = logging.getLogger(__name__)

NAMES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    503: "unavailable",
}


class ErrorBody(BaseModel):
    """What every error response carries."""

    name: str
    message: str
    request_id: str | None = None


class ServingError(Exception):
    """An expected failure with its HTTP status (raised by the service and the routes)."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status, self.name, self.message = status, name, message


def error_response(
    status: int, name: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(name=name, message=message, request_id=current_request_id())
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def validation_message(error: RequestValidationError) -> str:
    """``body.horizon: Input should be ...; ...`` -- where and what, first few problems."""
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item.get("loc", ()))
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    more = len(error.errors()) - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
    return error_response(422, "validation_error", validation_message(error))


async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
    name = NAMES.get(error.status_code, "http_error")
    return error_response(
        error.status_code, name, str(error.detail), headers=getattr(error, "headers", None)
    )


async def _serving(_: Request, error: ServingError) -> JSONResponse:
    return error_response(error.status, error.name, error.message)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return error_response(
        500, "internal_error", "an unexpected error occurred; quote the request id to the operators"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ServingError, _serving)
    app.add_exception_handler(Exception, _unexpected)


ERROR_RESPONSES = {
    status: {"model": ErrorBody, "description": NAMES[status]}
    for status in (401, 403, 413, 422, 503)
}
