"""Resources bound once in the definitions: local by default, S3 by setting.

A resource that hands a plain ``ml`` spec (drift, backtest, ingest limits, inventory policy)
to the assets takes its field defaults from that spec, so each default is stated once.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_aws.s3 import S3Resource
from mlflow.tracking import MlflowClient
from upath import UPath

from feature_store import OfflineStore, OnlineStore, open_online_store
from ml.data.cells import IngestLimits
from ml.data.ingest import LandingSource
from ml.data.lake import Lake
from ml.data.landing import LocalFolderSource, S3PrefixSource
from ml.evaluation.training import BacktestSpec
from ml.monitoring.alerts import Alert, Delivery, WebhookConfig, emit
from ml.monitoring.drift import DriftSpec
from ml.pricing.inventory import InventoryPolicy
from ml.pricing.store import PricingStore
from ml.registry.tracking import TrackingConfig
from orchestration.settings import Settings


class LakeResource(dg.ConfigurableResource):
    """The Parquet data lake and its ingestion ledger."""

    root: str

    def lake(self) -> Lake:
        return Lake(self.root)


class FeatureStoreResource(dg.ConfigurableResource):
    """The versioned offline feature table and the online store serving reads from."""

    offline_root: str
    online_url: str
    holiday_country: str = "US"

    def offline(self) -> OfflineStore:
        return OfflineStore(self.offline_root)

    def online(self) -> OnlineStore:
        return open_online_store(self.online_url)


class MLflowResource(dg.ConfigurableResource):
    """Where model runs are tracked and versions registered."""

    tracking_uri: str
    experiment: str = "retailiq"
    artifact_root: str = ""

    def config(self) -> TrackingConfig:
        if self.tracking_uri.startswith("sqlite:///"):
            Path(self.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True
            )
        return TrackingConfig(self.tracking_uri, self.experiment, self.artifact_root or None)


class RegistryResource(dg.ConfigurableResource):
    """The MLflow model registry and the promotion gate's limits."""

    tracking_uri: str
    model_name: str = "demand_forecaster"
    margin: float = 0.01
    max_bias_worsening: float = 0.05
    max_coverage_worsening: float = 0.02

    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)


class ForecastTableResource(dg.ConfigurableResource):
    """SQL database holding the forecasts table (SQLite by default, PostgreSQL in production)."""

    url: str


class MonitoringResource(dg.ConfigurableResource):
    """Drift and accuracy monitoring: windows, retraining thresholds, where reports go."""

    reports_dir: str
    tracking_uri: str
    experiment: str = "retailiq-monitoring"
    artifact_root: str = ""
    reference_days: int = DriftSpec.reference_days
    current_days: int = DriftSpec.current_days
    kl_threshold: float = DriftSpec.kl_threshold
    drifted_share_limit: float = DriftSpec.drifted_share_limit
    max_rows: int = DriftSpec.max_rows
    accuracy_threshold: float = 85.0
    accuracy_days: int = 3
    cooldown_days: int = 7

    def drift_spec(self) -> DriftSpec:
        return DriftSpec(
            self.reference_days,
            self.current_days,
            self.kl_threshold,
            self.drifted_share_limit,
            self.max_rows,
        )

    def tracking(self) -> TrackingConfig:
        return MLflowResource(
            tracking_uri=self.tracking_uri,
            experiment=self.experiment,
            artifact_root=self.artifact_root,
        ).config()


class AlertsResource(dg.ConfigurableResource):
    """Structured alerts: always logged; posted (HMAC-signed with a secret) when a URL is set."""

    webhook_url: str = ""
    webhook_secret: str = ""
    retries: int = 3
    backoff_seconds: float = 0.5

    def emit(self, kind: str, summary: str, details: dict | None = None) -> Delivery:
        webhook = None
        if self.webhook_url:
            webhook = WebhookConfig(
                self.webhook_url, self.webhook_secret or None, self.retries, self.backoff_seconds
            )
        return emit(Alert(kind, summary, details or {}), webhook)


class PricingResource(dg.ConfigurableResource):
    """The pricing store and the assumptions of pricing and replenishment.

    ``lead_time_by_item`` is a JSON object of lead times in days per item id; ``inventory_path``
    a CSV/Parquet file ``store_id, item_id, on_hand`` (stock is assumed where it is empty).
    """

    url: str
    default_margin: float = 0.35
    lead_time_days: int = InventoryPolicy.lead_time_days
    lead_time_by_item: str = "{}"
    service_level: float = InventoryPolicy.service_level
    review_period_days: int = InventoryPolicy.review_period_days
    assumed_cover_days: float = InventoryPolicy.assumed_cover_days
    inventory_path: str = ""

    def store(self) -> PricingStore:
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return PricingStore(self.url)

    def policy(self) -> InventoryPolicy:
        return InventoryPolicy(
            self.service_level,
            self.lead_time_days,
            json.loads(self.lead_time_by_item or "{}"),
            self.review_period_days,
            self.assumed_cover_days,
        )


class BacktestResource(dg.ConfigurableResource):
    """One backtest configuration that every model family consumes (same windows for all).

    ``family_params`` is a JSON object of hyper-parameter overrides per family, e.g.
    ``{"lstm": {"epochs": 2}, "xgboost": {"n_estimators": 200}}``.
    """

    h: int = BacktestSpec.h
    n_windows: int = BacktestSpec.n_windows
    step_size: int = BacktestSpec.step_size
    refit: bool = BacktestSpec.refit
    levels: list[int] = list(BacktestSpec.levels)
    min_history_days: int = BacktestSpec.min_history_days
    family_params: str = "{}"

    def params_for(self, family: str) -> dict:
        return dict(json.loads(self.family_params or "{}").get(family, {}))

    def spec(self) -> BacktestSpec:
        return BacktestSpec(
            self.h,
            self.n_windows,
            self.step_size,
            self.refit,
            tuple(self.levels),
            self.min_history_days,
        )


class ParallelResource(dg.ConfigurableResource):
    """Per-series parallelism: local processes by default, Dask when an address is set."""

    n_workers: int | None = None
    dask_scheduler_address: str | None = None


class LandingZoneResource(dg.ConfigurableResource):
    """Where retailers drop files: a local folder, or an S3 prefix when ``s3_bucket`` is set."""

    folder: str = ""
    quarantine_folder: str = ""
    s3_bucket: str = ""
    s3_prefix: str = "landing"
    s3_quarantine_prefix: str = "quarantine"
    s3: S3Resource | None = None
    max_units: float = IngestLimits.max_units
    max_price: float = IngestLimits.max_price
    min_date: str = IngestLimits.min_date.isoformat()
    max_future_days: int = IngestLimits.max_future_days
    sales_max_future_days: int = IngestLimits.sales_max_future_days
    max_bad_row_share: float = IngestLimits.max_bad_row_share
    returns: str = IngestLimits.returns

    def limits(self) -> IngestLimits:
        """The bounds a landed row must satisfy (README: reason codes)."""
        return IngestLimits(
            self.max_units,
            self.max_price,
            date.fromisoformat(self.min_date),
            self.max_future_days,
            self.sales_max_future_days,
            self.max_bad_row_share,
            self.returns,
        )

    def source(self) -> LandingSource:
        if self.s3_bucket:
            if self.s3 is None:
                raise ValueError("an S3 landing zone needs the s3 resource")
            client = self.s3.get_client()
            return S3PrefixSource(client, self.s3_bucket, self.s3_prefix, self.s3_quarantine_prefix)
        return LocalFolderSource(self.folder, self.quarantine_folder)

    def describe(self) -> str:
        if self.s3_bucket:
            return f"s3://{self.s3_bucket}/{self.s3_prefix}"
        return self.folder


class PandasParquetIOManager(dg.UPathIOManager):
    """Stores DataFrame assets as Parquet files named by asset key."""

    extension: str = ".parquet"

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        with tmp.open("wb") as handle:
            obj.to_parquet(handle, index=False)
        tmp.rename(path)  # readers never see a half-written asset

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        with path.open("rb") as handle:
            return pd.read_parquet(handle)


class ParquetIOManagerFactory(dg.ConfigurableIOManagerFactory):
    """Parquet IO manager rooted at ``base_dir`` (a local path or any fsspec URL)."""

    base_dir: str

    def create_io_manager(self, context) -> PandasParquetIOManager:
        return PandasParquetIOManager(base_path=UPath(self.base_dir))


def build_resources(settings: Settings) -> dict:
    """All resources, from settings. Local and production profiles differ only here."""
    s3 = S3Resource(endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region)
    landing = LandingZoneResource(
        folder=str(settings.landing_path),
        quarantine_folder=str(settings.quarantine_path),
        s3_bucket=settings.landing_s3_bucket or "",
        s3_prefix=settings.landing_s3_prefix,
        s3_quarantine_prefix=settings.quarantine_s3_prefix,
        s3=s3,
        max_units=settings.ingest_max_units,
        max_price=settings.ingest_max_price,
        min_date=settings.ingest_min_date.isoformat(),
        max_future_days=settings.ingest_max_future_days,
        sales_max_future_days=settings.ingest_sales_max_future_days,
        max_bad_row_share=settings.ingest_max_bad_row_share,
        returns=settings.ingest_returns,
    )
    return {
        "lake": LakeResource(root=str(settings.lake_path)),
        "mlflow": MLflowResource(
            tracking_uri=settings.tracking_uri,
            experiment=settings.mlflow_experiment,
            artifact_root=str(settings.mlflow_dir / "artifacts"),
        ),
        "backtest": BacktestResource(),
        "registry": RegistryResource(
            tracking_uri=settings.tracking_uri,
            model_name=settings.model_name,
            margin=settings.promotion_margin,
        ),
        "forecast_table": ForecastTableResource(url=settings.forecasts_url),
        "pricing": PricingResource(
            url=settings.pricing_url,
            default_margin=settings.pricing_default_margin,
            lead_time_days=settings.pricing_lead_time_days,
            lead_time_by_item=settings.pricing_lead_times,
            service_level=settings.pricing_service_level,
            inventory_path=settings.inventory_path or "",
        ),
        "monitoring": MonitoringResource(
            reports_dir=str(settings.data_dir.resolve() / "monitoring"),
            tracking_uri=settings.tracking_uri,
            experiment=settings.monitoring_experiment,
            artifact_root=str(settings.mlflow_dir / "artifacts"),
            reference_days=settings.drift_reference_days,
            current_days=settings.drift_current_days,
            kl_threshold=settings.drift_kl_threshold,
            drifted_share_limit=settings.drift_share_limit,
            accuracy_threshold=settings.accuracy_threshold,
            accuracy_days=settings.accuracy_days,
            cooldown_days=settings.retrain_cooldown_days,
        ),
        "alerts": AlertsResource(
            webhook_url=settings.alert_webhook_url or "",
            webhook_secret=_secret(settings.alert_webhook_secret, "RETAILIQ_ALERT_WEBHOOK_SECRET"),
        ),
        "object_io_manager": dg.FilesystemIOManager(base_dir=str(settings.lake_path / "objects")),
        "parallel": ParallelResource(
            n_workers=settings.n_workers, dask_scheduler_address=settings.dask_scheduler_address
        ),
        "feature_store": FeatureStoreResource(
            offline_root=str(settings.features_path),
            online_url=settings.online_url,
            holiday_country=settings.holiday_country,
        ),
        "landing": landing,
        "io_manager": ParquetIOManagerFactory(base_dir=str(settings.lake_path / "assets")),
    }


def _secret(value: str | None, env_name: str):
    """A secret from the environment stays an ``EnvVar`` (the UI never shows its value)."""
    if value and os.environ.get(env_name) == value:
        return dg.EnvVar(env_name)
    return value or ""
