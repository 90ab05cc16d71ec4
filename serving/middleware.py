"""Per-request plumbing as one plain ASGI middleware (cheaper than a stack of them).

It binds the request id (``X-Request-ID`` in and out), rejects bodies over the size limit with
a 413 before the app reads them, turns anything unhandled into the one error shape, records the
request count and latency by route template and status, and writes the access log line.
"""

from __future__ import annotations

import logging
import time

from serving.errors import error_response
from serving.logging import bind_request_id, reset_request_id
from serving.metrics import ServingMetrics

access_log = logging.getLogger("serving.access")
log = logging.getLogger(__name__)


class BodyTooLarge(BaseException):  # noqa: N818
    """Raised from ``receive``; a BaseException so that FastAPI's body parsing (which turns any
    Exception into a 400) lets it through to this middleware."""


class RequestContext:
    def __init__(
        self, app, metrics: ServingMetrics, max_body_bytes: int, access_log_enabled: bool = True
    ) -> None:
        self.app, self.metrics, self.limit = app, metrics, max_body_bytes
        self.access_log_enabled = access_log_enabled

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id")
        token, request_id = bind_request_id(incoming.decode("latin-1") if incoming else None)
        started, status = time.perf_counter(), [500, False]

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                status[0], status[1] = message["status"], True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self._handle(scope, receive, send_with_id, headers.get(b"content-length"))
        except BodyTooLarge:
            await self._reject_large(scope, receive, send_with_id, status[1])
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if not status[1]:
                response = error_response(
                    500,
                    "internal_error",
                    "an unexpected error occurred; quote the request id to the operators",
                )
                await response(scope, receive, send_with_id)
        finally:
            self._record(scope, status[0], time.perf_counter() - started, request_id)
            reset_request_id(token)

    async def _handle(self, scope, receive, send, length: bytes | None) -> None:
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            raise BodyTooLarge
        seen = 0

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge
            return message

        await self.app(scope, counting_receive, send)

    async def _reject_large(self, scope, receive, send, response_started: bool) -> None:
        if response_started:
            return
        response = error_response(
            413, "payload_too_large", f"the request body exceeds {self.limit} bytes"
        )
        await response(scope, receive, send)

    def _record(self, scope, status: int, seconds: float, request_id: str) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        self.metrics.observe(scope["method"], template, status, seconds)
        if self.access_log_enabled:
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )
