"""The pricing service: what the pricing and inventory routes call, over ``PricingStore``.

The store is the one the pricing assets write (``RETAILIQ_PRICING_DB_URL``, default
``sqlite:///data/pricing.db``). It is opened on first use, never created: while it does not
exist, or holds no batch of the table asked for (the assets never ran), reads answer **503**
``no_pricing_data`` naming the asset to materialise, so an empty list always means "nothing
matches the filters" and never "no data yet". An unreachable database is a 503 as well.

``optimize`` takes its defaults for a known item from the newest stored batches: elasticity and
its standard error from ``price_elasticity``, current price and unit cost from the newest
recommendation of the series, expected daily demand and stock from ``reorder_points`` (the same
forecast mean over the horizon the recommendations use). Inputs in the request win; the answer
says where each one came from.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ml.pricing.optimizer import PriceBounds, optimize
from ml.pricing.store import (
    ELASTICITY_TABLE,
    REORDER_TABLE,
    PricingStore,
    StatusError,
    recommendations,
)
from ml.schema import STORE_ID, UNIQUE_ID, series_id
from serving.errors import ServingError
from serving.pricing_schemas import OptimizeRequest

SERIES_INPUTS = {"current_price": "recommendations", "unit_cost": "recommendations"}
DEMAND_INPUTS = {"daily_demand": "reorder_points", "stock": "reorder_points"}
INPUTS = ("current_price", "unit_cost", "elasticity", "elasticity_se", "daily_demand", "stock")
ASSET_OF = {
    "pricing_recommendations": "price_recommendations",
    ELASTICITY_TABLE: "price_elasticity",
    REORDER_TABLE: "reorder_points",
}


def no_data(table: str) -> ServingError:
    return ServingError(
        503,
        "no_pricing_data",
        f"the pricing store holds no {table.replace('_', ' ')} yet: materialise the "
        f"{ASSET_OF[table]} asset (forecast_job runs it after demand_forecasts)",
    )


def unreachable(call: Callable) -> Callable:
    """Connection problems with the pricing database answer 503, not 500."""

    @functools.wraps(call)
    def guarded(*args, **kwargs):
        try:
            return call(*args, **kwargs)
        except sa.exc.OperationalError as error:
            raise ServingError(
                503,
                "pricing_store_unavailable",
                f"the pricing store cannot be reached: {type(error.orig).__name__}",
            ) from error

    return guarded


def plain(value: Any) -> Any:
    """A JSON-ready Python value: NaN as None, numpy scalars unwrapped, times in UTC."""
    if isinstance(value, pd.Timestamp | datetime):
        stamp = pd.Timestamp(value)
        return (stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp).to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return None if value is pd.NA or value is pd.NaT else value


def missing_sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL that does not exist yet (opening it would create it)."""
    parsed = sa.engine.make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or path in (None, "", ":memory:"):
        return None
    return None if Path(path).exists() else path


def records(frame: pd.DataFrame) -> list[dict]:
    frame = frame.rename(columns={UNIQUE_ID: "series_id"})
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


class PricingService:
    """One per app; thread-safe (handlers run in the threadpool)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: PricingStore | None = None
        self._lock = threading.Lock()

    @unreachable
    def store(self) -> PricingStore:
        with self._lock:
            if self._store is None:
                missing = missing_sqlite_file(self.url)
                if missing is not None:
                    raise ServingError(
                        503,
                        "no_pricing_data",
                        f"the pricing store {missing} does not exist yet: materialise the "
                        "pricing assets (forecast_job runs them after demand_forecasts)",
                    )
                self._store = PricingStore(self.url)
            return self._store

    def dispose(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.dispose()
                self._store = None

    def _has(self, table: str) -> bool:
        engine = self.store().engine
        if table == recommendations.name:
            with engine.connect() as conn:
                return conn.execute(sa.select(recommendations.c.id).limit(1)).first() is not None
        return sa.inspect(engine).has_table(table)

    # -- recommendations -----------------------------------------------------------------------
    @unreachable
    def recommendations(
        self, filters: dict, all_batches: bool, limit: int, offset: int
    ) -> tuple[list[dict], int | None]:
        """One page of recommendations and the offset of the next page (None on the last)."""
        frame = self.store().list_recommendations(
            **filters, latest_batch=not all_batches, limit=offset + limit + 1
        )
        if frame.empty and not self._has(recommendations.name):
            raise no_data(recommendations.name)
        page = frame.iloc[offset : offset + limit]
        return records(page), offset + limit if len(frame) > offset + limit else None

    @unreachable
    def recommendation(self, recommendation_id: int) -> dict:
        """One recommendation with its audit trail."""
        row = self.store().get_recommendation(recommendation_id)
        if row is None:
            raise ServingError(
                404, "not_found", f"no price recommendation with id {recommendation_id}"
            )
        history = self.store().history(recommendation_id)
        return {
            **records(pd.DataFrame([row]))[0],
            "history": records(history.drop(columns=["id", "recommendation_id"])),
        }

    @unreachable
    def decide(self, recommendation_id: int, status: str, actor: str, note: str | None) -> dict:
        """Accept or reject a pending recommendation: 404 unknown, 409 when not pending."""
        self.recommendation(recommendation_id)  # 404 first
        try:
            self.store().set_status(recommendation_id, status, actor, note)
        except StatusError as error:
            raise ServingError(409, "conflict", f"{error}; only pending ones can change") from error
        return self.recommendation(recommendation_id)

    # -- elasticities and reorder points ----------------------------------------------------------
    @unreachable
    def elasticity(self, item_id: str) -> dict:
        frame = self.store().read_elasticities(item_id)
        if frame.empty:
            if not self._has(ELASTICITY_TABLE):
                raise no_data(ELASTICITY_TABLE)
            raise ServingError(404, "not_found", f"no elasticity estimate for item {item_id!r}")
        return records(frame.tail(1))[0]

    @unreachable
    def reorder_points(
        self, item_id: str | None, store_id: str | None, alerts_only: bool, limit: int, offset: int
    ) -> tuple[list[dict], int | None]:
        if not self._has(REORDER_TABLE):
            raise no_data(REORDER_TABLE)
        frame = self.store().read_reorder_points(alerts_only, item_id, store_id)
        page = frame.iloc[offset : offset + limit]
        return records(page), offset + limit if len(frame) > offset + limit else None

    # -- optimize ---------------------------------------------------------------------------------
    @unreachable
    def optimize(self, body: OptimizeRequest) -> dict:
        """The optimiser's answer for the request's inputs, stored ones filling the gaps."""
        given = {name: getattr(body, name) for name in INPUTS if getattr(body, name) is not None}
        sources = dict.fromkeys(given, "request")
        if body.item_id is not None:
            store_id = self._fill(body.item_id, body.store_id, body.strategy, given, sources)
        else:
            store_id = None
        if "elasticity_se" not in given:
            given["elasticity_se"], sources["elasticity_se"] = 0.0, "default"
        try:
            bounds = body.bounds.to_bounds() if body.bounds is not None else PriceBounds()
            answer = optimize(
                **given,
                strategy=body.strategy,
                bounds=bounds,
                horizon_days=body.horizon_days,
                clearance_days=body.clearance_days or 30.0,
            )
        except ValueError as error:
            raise ServingError(422, "validation_error", str(error)) from error
        return {
            **answer,
            "item_id": body.item_id,
            "store_id": store_id,
            "horizon_days": body.horizon_days,
            "clearance_days": body.clearance_days,
            "stock": given.get("stock"),
            "sources": sources,
        }

    def _fill(
        self, item_id: str, store_id: str | None, strategy: str, given: dict, sources: dict
    ) -> str | None:
        """Missing inputs from the store (in place); returns the series' store."""
        need_series = [n for n in (*SERIES_INPUTS, *DEMAND_INPUTS) if n not in given]
        if strategy != "clearance" and "stock" in need_series:
            need_series.remove("stock")
        known = self._fill_elasticity(item_id, given, sources)
        if need_series or "elasticity" not in given:
            store_id = self._fill_series(item_id, store_id, known, need_series, given, sources)
        missing = [
            name
            for name in ("current_price", "unit_cost", "elasticity", "daily_demand")
            if name not in given
        ]
        if strategy == "clearance" and "stock" not in given:
            missing.append("stock")
        if missing:
            raise ServingError(
                422,
                "validation_error",
                f"no stored {', '.join(missing)} for item {item_id!r}"
                + (f" in store {store_id!r}" if store_id else "")
                + "; give them in the request",
            )
        return store_id

    def _fill_elasticity(self, item_id: str, given: dict, sources: dict) -> bool:
        """Elasticity and its se from the newest batch; whether the item has a row there."""
        frame = self.store().read_elasticities(item_id)
        if frame.empty:
            return False
        row = frame.iloc[-1]
        for name, column in (("elasticity", "elasticity"), ("elasticity_se", "se")):
            value = plain(row.get(column))
            if name not in given and value is not None:
                given[name], sources[name] = float(value), "elasticities"
        return True

    def _fill_series(
        self,
        item_id: str,
        store_id: str | None,
        known: bool,
        needed: list[str],
        given: dict,
        sources: dict,
    ) -> str | None:
        """Price, cost, demand and stock of the item's one series (404 for an unknown item)."""
        latest = self._latest_recommendations(item_id, store_id)
        demand = self.store().read_reorder_points(item_id=item_id, store_id=store_id)
        found = [*latest.get(STORE_ID, []), *demand.get(STORE_ID, [])]
        stores = sorted({s for s in found if isinstance(s, str)})
        if not stores:
            if known and store_id is None:  # the caller lists what is missing
                return store_id
            if not self._has(recommendations.name) and not self._has(REORDER_TABLE):
                raise no_data(recommendations.name)
            where = f"series {series_id(store_id, item_id)!r}" if store_id else f"item {item_id!r}"
            raise ServingError(404, "not_found", f"the pricing store has no {where}")
        if len(stores) > 1:
            raise ServingError(
                422,
                "validation_error",
                f"item {item_id!r} is priced in {len(stores)} stores ({', '.join(stores[:5])}"
                f"{', ...' if len(stores) > 5 else ''}); give store_id",
            )
        store_id = stores[0]
        for frame, wanted in ((latest, SERIES_INPUTS), (demand, DEMAND_INPUTS)):
            self._take(
                frame, store_id, {n: wanted[n] for n in needed if n in wanted}, given, sources
            )
        if "elasticity" not in given:
            self._take(latest, store_id, {"elasticity": "recommendations"}, given, sources)
        return store_id

    @staticmethod
    def _take(frame: pd.DataFrame, store_id: str, wanted: dict, given: dict, sources: dict):
        rows = frame[frame[STORE_ID] == store_id] if not frame.empty else frame
        if rows.empty:
            return
        row = rows.iloc[-1]
        for name, source in wanted.items():
            value = plain(row.get(name))
            if value is not None:
                given[name], sources[name] = float(value), source

    def _latest_recommendations(self, item_id: str, store_id: str | None) -> pd.DataFrame:
        """The newest recommendation per series of the item (any batch, any strategy)."""
        r = recommendations.c
        query = sa.select(recommendations).where(r.item_id == item_id)
        if store_id is not None:
            query = query.where(r.store_id == store_id)
        query = query.order_by(r.id.desc()).limit(1000)
        with self.store().engine.connect() as conn:
            frame = pd.read_sql_query(query, conn)
        return frame.drop_duplicates(UNIQUE_ID).sort_values("id").reset_index(drop=True)
