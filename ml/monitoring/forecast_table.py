"""The forecasts table of the design documents, in any SQLAlchemy database.

One row per series, forecast date and batch: series, store, item, forecast date, horizon,
predicted quantity, lower and upper bound (and their level), model name and version, and when
the batch was generated. Batches are appended, never overwritten, so the history of what was
forecast for a day stays available for accuracy monitoring.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from ml.schema import DS, ITEM_ID, STORE_ID, UNIQUE_ID, forecast_column, split_series_id

TABLE = "demand_forecasts"
COLUMNS = [
    "unique_id",
    "store_id",
    "item_id",
    "forecast_date",
    "horizon",
    "predicted_quantity",
    "lower_bound",
    "upper_bound",
    "interval_level",
    "model_name",
    "model_version",
    "generated_at",
]


def forecast_rows(
    forecast: pd.DataFrame,
    alias: str,
    level: int,
    model_name: str,
    model_version: str,
    generated_at: datetime | None = None,
) -> pd.DataFrame:
    """Long forecast frame (``unique_id, ds, <alias>, <alias>-lo/hi-<level>``) -> table rows."""
    generated_at = generated_at or datetime.now(UTC).replace(tzinfo=None)
    first_day = forecast.groupby(UNIQUE_ID)[DS].transform("min")
    keys = split_series_id(forecast[UNIQUE_ID])
    return pd.DataFrame(
        {
            "unique_id": forecast[UNIQUE_ID].to_numpy(),
            "store_id": keys[STORE_ID].to_numpy(),
            "item_id": keys[ITEM_ID].to_numpy(),
            "forecast_date": pd.to_datetime(forecast[DS]).dt.date.to_numpy(),
            "horizon": ((forecast[DS] - first_day).dt.days + 1).astype("int32").to_numpy(),
            "predicted_quantity": forecast[alias].astype(float).to_numpy(),
            "lower_bound": forecast[forecast_column(alias, "lo", level)].astype(float).to_numpy(),
            "upper_bound": forecast[forecast_column(alias, "hi", level)].astype(float).to_numpy(),
            "interval_level": level,
            "model_name": model_name,
            "model_version": str(model_version),
            "generated_at": generated_at,
        }
    )[COLUMNS]


def append_forecasts(rows: pd.DataFrame, url: str) -> int:
    """Append one batch in a single transaction (all rows land or none)."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            rows.to_sql(TABLE, connection, if_exists="append", index=False, chunksize=10_000)
            _ensure_index(connection)
    finally:
        engine.dispose()
    return len(rows)


def _ensure_index(connection) -> None:
    connection.execute(
        sa.text(
            f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_series_date "
            f"ON {TABLE} (unique_id, forecast_date, generated_at)"
        )
    )


def read_forecasts(url: str, latest_only: bool = True) -> pd.DataFrame:
    """The newest batch (or every batch) from the table."""
    engine = sa.create_engine(url)
    try:
        query = f"SELECT * FROM {TABLE}"
        if latest_only:
            query += f" WHERE generated_at = (SELECT MAX(generated_at) FROM {TABLE})"
        with engine.connect() as connection:
            return pd.read_sql_query(sa.text(query), connection)
    finally:
        engine.dispose()
