"""The app factory: ``create_app(settings)`` builds the API around one model service.

The lifespan loads the served alias once at start-up (the service answers 503 until then, or
until the registry can be reached) and polls the registry every ``poll_interval_s`` seconds,
swapping to a new version when the alias moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import anyio
from fastapi import FastAPI

from serving.errors import install_error_handlers
from serving.metrics import ServingMetrics
from serving.middleware import RequestContext
from serving.pricing import PricingService
from serving.routes import ROUTERS
from serving.service import ModelService
from serving.settings import ServingSettings

log = logging.getLogger(__name__)


async def _poll(service: ModelService, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await anyio.to_thread.run_sync(service.refresh)
        except Exception:  # never let the watcher die
            log.exception("registry poll failed")


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: ServingSettings = app.state.settings
    service: ModelService = app.state.service
    if not settings.auth_enabled:
        log.warning(
            "API KEYS ARE OFF: every route, admin included, is open to anyone who can "
            "reach this port (set RETAILIQ_SERVING_API_KEYS to turn them on)"
        )
    await anyio.to_thread.run_sync(service.refresh)
    poller = None
    if settings.poll_interval_s > 0:
        poller = asyncio.create_task(_poll(service, settings.poll_interval_s))
    try:
        yield
    finally:
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        app.state.pricing.dispose()


def create_app(
    settings: ServingSettings | None = None, service: ModelService | None = None
) -> FastAPI:
    """A new app (its own metrics registry and model service)."""
    settings = settings or ServingSettings()
    metrics = service.metrics if service is not None else ServingMetrics()
    app = FastAPI(
        title="RetailIQ serving",
        version="1",
        summary="Demand forecasts from the registered demand_forecaster model.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.service = service or ModelService(settings, metrics)
    app.state.pricing = PricingService(settings.pricing_url)  # opened on first use
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(
        RequestContext,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        access_log_enabled=settings.access_log,
    )
    return app
