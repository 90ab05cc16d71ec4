"""The pricing store: elasticities, recommendations with their status, and reorder points, in
any SQLAlchemy database (SQLite by default, PostgreSQL in production).

Recommendations are appended in batches and carry a status: ``pending`` when written, then
``accepted`` or ``rejected`` by a person, or ``expired`` by the system (a newer batch for the
same series and strategy supersedes a pending one, or its validity window ends). A status
changes only from ``pending``, with a conditional UPDATE, so two managers racing on the same
recommendation cannot both win; every change appends a row to ``pricing_recommendation_events``
(from, to, who, when, note) in the same transaction, so history is never overwritten.

Elasticities and reorder points are appended per batch too; readers get the newest batch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

PENDING, ACCEPTED, REJECTED, EXPIRED = "pending", "accepted", "rejected", "expired"
SYSTEM = "system"

metadata = sa.MetaData()
recommendations = sa.Table(
    "pricing_recommendations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.String(64), nullable=False, index=True),
    sa.Column("unique_id", sa.String(200), nullable=False, index=True),
    sa.Column("store_id", sa.String(100)),
    sa.Column("item_id", sa.String(100), index=True),
    sa.Column("strategy", sa.String(20), nullable=False),
    sa.Column("current_price", sa.Float),
    sa.Column("recommended_price", sa.Float),
    sa.Column("change_pct", sa.Float),
    sa.Column("unit_cost", sa.Float),
    sa.Column("cost_source", sa.String(20)),
    sa.Column("expected_units", sa.Float),
    sa.Column("expected_revenue", sa.Float),
    sa.Column("expected_profit", sa.Float),
    sa.Column("elasticity", sa.Float),
    sa.Column("elasticity_method", sa.String(20)),
    sa.Column("confidence", sa.Float),
    sa.Column("confidence_label", sa.String(10)),
    sa.Column("reasoning", sa.Text),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("status_by", sa.String(200)),
    sa.Column("status_at", sa.DateTime),
    sa.Column("valid_from", sa.DateTime),
    sa.Column("valid_until", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
events = sa.Table(
    "pricing_recommendation_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "recommendation_id",
        sa.Integer,
        sa.ForeignKey("pricing_recommendations.id"),
        nullable=False,
        index=True,
    ),
    sa.Column("from_status", sa.String(20)),
    sa.Column("to_status", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("at", sa.DateTime, nullable=False),
)
ELASTICITY_TABLE, REORDER_TABLE = "price_elasticities", "reorder_points"
REC_COLUMNS = [c.name for c in recommendations.columns if c.name != "id"]


class StatusError(ValueError):
    """A status change that is not allowed (unknown id, not pending, or an unknown status)."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class PricingStore:
    """Reads and writes the pricing tables. One engine per store; create it once per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = sa.create_engine(url)
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- recommendations ---------------------------------------------------------------------
    def save_recommendations(
        self,
        frame: pd.DataFrame,
        batch_id: str,
        valid_days: float = 7.0,
        now: datetime | None = None,
    ) -> int:
        """Append a batch as ``pending``; pending ones of the same series and strategy from
        earlier batches expire (audited, actor ``system``). Returns the rows written."""
        now = now or _now()
        if frame.empty:
            return 0
        rows = frame.assign(
            batch_id=batch_id,
            status=PENDING,
            status_by=SYSTEM,
            status_at=now,
            valid_from=now,
            valid_until=now + timedelta(days=valid_days),
            created_at=now,
        )
        rows = rows[[c for c in REC_COLUMNS if c in rows.columns]]
        with self.engine.begin() as conn:
            stale = (
                conn.execute(
                    sa.select(recommendations.c.id).where(
                        recommendations.c.status == PENDING,
                        recommendations.c.unique_id.in_(rows["unique_id"].unique().tolist()),
                        recommendations.c.strategy.in_(rows["strategy"].unique().tolist()),
                    )
                )
                .scalars()
                .all()
            )
            for rec_id in stale:
                self._transition(conn, rec_id, EXPIRED, SYSTEM, f"superseded by {batch_id}", now)
            conn.execute(recommendations.insert(), _records(rows))
            ids = (
                conn.execute(
                    sa.select(recommendations.c.id).where(recommendations.c.batch_id == batch_id)
                )
                .scalars()
                .all()
            )
            conn.execute(
                events.insert(),
                [
                    {
                        "recommendation_id": i,
                        "from_status": None,
                        "to_status": PENDING,
                        "actor": SYSTEM,
                        "note": f"batch {batch_id}",
                        "at": now,
                    }
                    for i in ids
                ],
            )
        return len(rows)

    def list_recommendations(
        self,
        status: str | None = None,
        item_id: str | None = None,
        store_id: str | None = None,
        strategy: str | None = None,
        latest_batch: bool = True,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Recommendations (newest batch only by default), expired ones marked first."""
        self.expire_stale()
        r = recommendations.c
        query = sa.select(recommendations).order_by(r.id)
        if latest_batch:
            newest = sa.select(r.batch_id).order_by(r.created_at.desc(), r.id.desc()).limit(1)
            query = query.where(r.batch_id == newest.scalar_subquery())
        for column, value in (
            (r.status, status),
            (r.item_id, item_id),
            (r.store_id, store_id),
            (r.strategy, strategy),
        ):
            if value is not None:
                query = query.where(column == value)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return pd.read_sql_query(query, conn)

    def get_recommendation(self, recommendation_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(recommendations).where(recommendations.c.id == recommendation_id)
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def set_status(
        self, recommendation_id: int, status: str, actor: str, note: str | None = None
    ) -> dict:
        """Accept, reject (or expire) a pending recommendation; raises :class:`StatusError`
        otherwise. Returns the updated recommendation."""
        if status not in (ACCEPTED, REJECTED, EXPIRED):
            raise StatusError(f"status must be accepted, rejected or expired, got {status!r}")
        if not actor:
            raise StatusError("a status change needs the actor who made it")
        self.expire_stale()
        with self.engine.begin() as conn:
            self._transition(conn, recommendation_id, status, actor, note, _now())
        return self.get_recommendation(recommendation_id)

    def history(self, recommendation_id: int) -> pd.DataFrame:
        """Every status change of one recommendation, oldest first (the audit trail)."""
        query = sa.select(events).where(events.c.recommendation_id == recommendation_id)
        with self.engine.connect() as conn:
            return pd.read_sql_query(query.order_by(events.c.id), conn)

    def expire_stale(self, now: datetime | None = None) -> int:
        """Expire pending recommendations whose validity window has ended."""
        now = now or _now()
        with self.engine.begin() as conn:
            stale = (
                conn.execute(
                    sa.select(recommendations.c.id).where(
                        recommendations.c.status == PENDING, recommendations.c.valid_until < now
                    )
                )
                .scalars()
                .all()
            )
            for rec_id in stale:
                self._transition(conn, rec_id, EXPIRED, SYSTEM, "validity window ended", now)
        return len(stale)

    @staticmethod
    def _transition(
        conn, rec_id: int, status: str, actor: str, note: str | None, now: datetime
    ) -> None:
        r = recommendations.c
        done = conn.execute(
            recommendations.update()
            .where(r.id == rec_id, r.status == PENDING)
            .values(status=status, status_by=actor, status_at=now)
        )
        if done.rowcount != 1:
            current = conn.execute(sa.select(r.status).where(r.id == rec_id)).scalar()
            if current is None:
                raise StatusError(f"no recommendation with id {rec_id}")
            raise StatusError(f"recommendation {rec_id} is {current}, not pending")
        conn.execute(
            events.insert().values(
                recommendation_id=rec_id,
                from_status=PENDING,
                to_status=status,
                actor=actor,
                note=note,
                at=now,
            )
        )

    # -- elasticities and reorder points --------------------------------------------------------
    def save_elasticities(self, frame: pd.DataFrame, batch_id: str) -> int:
        return self._append(ELASTICITY_TABLE, frame, batch_id)

    def read_elasticities(self, item_id: str | None = None) -> pd.DataFrame:
        """The newest batch of item elasticities (one item's row when ``item_id`` is given)."""
        return self._latest(ELASTICITY_TABLE, {"item_id": item_id})

    def save_reorder_points(self, frame: pd.DataFrame, batch_id: str) -> int:
        return self._append(REORDER_TABLE, frame, batch_id)

    def read_reorder_points(
        self, alerts_only: bool = False, item_id: str | None = None, store_id: str | None = None
    ) -> pd.DataFrame:
        """The newest batch of reorder points, optionally only the stock-out alerts."""
        frame = self._latest(REORDER_TABLE, {"item_id": item_id, "store_id": store_id})
        if not alerts_only or frame.empty:  # no table yet: nothing to filter
            return frame
        return frame[frame["stockout_alert"].astype(bool)]

    def _append(self, table: str, frame: pd.DataFrame, batch_id: str) -> int:
        rows = frame.assign(batch_id=batch_id, created_at=_now())
        with self.engine.begin() as conn:
            rows.to_sql(table, conn, if_exists="append", index=False)
        return len(rows)

    def _latest(self, table: str, filters: dict) -> pd.DataFrame:
        if not sa.inspect(self.engine).has_table(table):
            return pd.DataFrame()
        t = sa.Table(table, sa.MetaData(), autoload_with=self.engine)
        newest = sa.select(t.c.batch_id).order_by(t.c.created_at.desc()).limit(1)
        query = sa.select(t).where(t.c.batch_id == newest.scalar_subquery())
        for column, value in filters.items():
            if value is not None:
                query = query.where(t.c[column] == value)
        with self.engine.connect() as conn:
            return pd.read_sql_query(query, conn)


def _records(rows: pd.DataFrame) -> list[dict]:
    """Plain Python values (no numpy scalars, NaN as NULL) for the DB driver."""
    clean = rows.astype(object).where(rows.notna(), None)
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        for r in clean.to_dict("records")
    ]
