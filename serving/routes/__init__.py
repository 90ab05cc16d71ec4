"""The API's routers, included by the app factory in this order.

A new router (e.g. ``serving/routes/pricing.py``) adds itself to :data:`ROUTERS`; it guards its
routes with ``Depends(require_role(Role.manager))`` from :mod:`serving.auth` and raises
:class:`serving.errors.ServingError` for the one error shape.
"""

from __future__ import annotations

from serving.routes import admin, forecasts, health, invocations, models, pricing

ROUTERS = [
    health.router,
    models.router,
    forecasts.router,
    invocations.router,
    pricing.router,
    admin.router,
]
