"""The one place that knows the environment.

Every setting has a working local default (SQLite, local folders under ``./data``); the
production profile overrides them with ``RETAILIQ_*`` environment variables (or a ``.env`` file).
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ml.data import locations


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETAILIQ_", env_file=".env", extra="ignore")

    data_dir: Path = Field(locations.DATA_DIR, description="Root of all local data (git-ignored).")
    landing_dir: Path | None = Field(None, description="Local landing zone (default data/landing).")
    quarantine_dir: Path | None = Field(None, description="Bad files go here (data/quarantine).")
    lake_dir: Path | None = Field(None, description="Parquet data lake (default data/lake).")

    landing_s3_bucket: str | None = Field(
        None, description="Set to read the landing zone from this S3 bucket instead of a folder."
    )
    landing_s3_prefix: str = Field("landing", description="Key prefix of landed files.")
    quarantine_s3_prefix: str = Field("quarantine", description="Key prefix for bad files.")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint (MinIO, moto).")
    s3_region: str = Field("us-east-1", description="AWS region of the bucket.")

    # -- ingestion bounds (issue 13): a row outside them is quarantined with its reason --
    ingest_max_units: float = Field(
        1e7, description="Most units one row (store, item, day) may hold."
    )
    ingest_max_price: float = Field(1e6, description="Highest accepted price or unit cost.")
    ingest_min_date: date = Field(date(2000, 1, 1), description="Earliest accepted date.")
    ingest_max_future_days: int = Field(
        730, description="Price lists and calendars may look this many days ahead."
    )
    ingest_sales_max_future_days: int = Field(
        1, description="Sales may be dated at most this many days after today."
    )
    ingest_max_bad_row_share: float = Field(
        0.2, description="Above this share of bad rows a file is quarantined whole."
    )
    ingest_returns: Literal["net", "reject"] = Field(
        "net",
        description="Negative units: 'net' keeps them as the day's net returns (sales_history "
        "floors them at 0); 'reject' quarantines such rows.",
    )

    online_store_url: str | None = Field(
        None,
        description="Online feature store: sqlite:///path.db (default data/online_features.db), "
        "redis://host:6379/0 or postgresql://user@host:5432/db.",
    )
    holiday_country: str = Field("US", description="Country of the `holidays` calendar features.")

    mlflow_tracking_uri: str | None = Field(
        None, description="MLflow tracking/registry URI (default sqlite:///data/mlflow/mlflow.db)."
    )
    mlflow_experiment: str = Field("retailiq", description="MLflow experiment for model runs.")
    n_workers: int | None = Field(None, description="Processes for per-series work (all cores).")
    dask_scheduler_address: str | None = Field(
        None, description="Run per-series work on this Dask cluster instead (tcp://host:8786)."
    )

    model_name: str = Field(locations.MODEL_NAME, description="Registered model name.")
    promotion_margin: float = Field(
        0.01, description="Challenger RMSSE must be at most (1 - margin) x the champion's."
    )
    forecasts_db_url: str | None = Field(
        None, description="SQLAlchemy URL of the forecasts table (default data/forecasts.db)."
    )

    # -- monitoring and retraining (issue 7) --
    drift_reference_days: int = Field(28, description="Drift reference: training window tail.")
    drift_current_days: int = Field(7, description="Drift current window: the latest days.")
    drift_kl_threshold: float = Field(0.1, description="Retrain when a KL divergence exceeds it.")
    drift_share_limit: float = Field(
        0.5, description="Retrain when the share of drifted columns exceeds it."
    )
    accuracy_threshold: float = Field(85.0, description="Retrain below this accuracy (100-WAPE)")
    accuracy_days: int = Field(3, description="... for this many consecutive days.")
    retrain_cooldown_days: int = Field(
        7, description="Data days after an automatic retrain before another may fire."
    )
    monitoring_experiment: str = Field(
        "retailiq-monitoring", description="MLflow experiment of the drift reports."
    )
    alert_webhook_url: str | None = Field(None, description="POST alerts here (JSON) when set.")
    alert_webhook_secret: str | None = Field(
        None, description="HMAC-SHA256 key signing webhook bodies (X-RetailIQ-Signature)."
    )

    pricing_db_url: str | None = Field(
        None, description="SQLAlchemy URL of the pricing tables (default data/pricing.db)."
    )
    pricing_default_margin: float = Field(
        0.35, description="Gross margin assumed where the catalogue has no unit cost."
    )
    pricing_lead_time_days: int = Field(7, description="Default supplier lead time in days.")
    pricing_lead_times: str = Field(
        "{}", description='Lead time per item as JSON, e.g. {"FOODS_3_090": 3}.'
    )
    pricing_service_level: float = Field(0.95, description="Service level of reorder points.")
    inventory_path: str | None = Field(
        None,
        description="Inventory file (CSV/Parquet: store_id, item_id, on_hand); "
        "stock is assumed where absent.",
    )

    @cached_property
    def pricing_url(self) -> str:
        return self.pricing_db_url or locations.pricing_url(self.data_dir)

    @cached_property
    def forecasts_url(self) -> str:
        return self.forecasts_db_url or locations.forecasts_url(self.data_dir)

    @cached_property
    def mlflow_dir(self) -> Path:
        return locations.mlflow_dir(self.data_dir)

    @cached_property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or locations.tracking_uri(self.data_dir)

    @cached_property
    def features_path(self) -> Path:
        return self.lake_path / "features"

    @cached_property
    def online_url(self) -> str:
        return self.online_store_url or locations.online_store_url(self.data_dir)

    @cached_property
    def landing_path(self) -> Path:
        return (self.landing_dir or self.data_dir / "landing").resolve()

    @cached_property
    def quarantine_path(self) -> Path:
        return (self.quarantine_dir or self.data_dir / "quarantine").resolve()

    @cached_property
    def lake_path(self) -> Path:
        return (self.lake_dir or self.data_dir / "lake").resolve()


def get_settings() -> Settings:
    return Settings()
