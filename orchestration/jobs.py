"""Jobs: named selections of assets that users and sensors launch."""

from __future__ import annotations

import dagster as dg

INGESTION_TAG = "retailiq/ingestion"

ingestion_job = dg.define_asset_job(
    "ingestion_job",
    selection=dg.AssetSelection.groups("ingestion"),
    description="Ingest new landed files into the lake and rebuild the validated sales_history.",
    tags={INGESTION_TAG: "true"},
)

data_job = dg.define_asset_job(
    "data_job",
    selection=dg.AssetSelection.groups("ingestion", "features"),
    description="Ingest, validate, and rebuild the offline and online features.",
    tags={INGESTION_TAG: "true"},
)

TRAINING_GROUPS = ("ingestion", "features", "models", "evaluation", "registry", "forecasts")

training_job = dg.define_asset_job(
    "training_job",
    selection=dg.AssetSelection.groups(*TRAINING_GROUPS),
    description="The training graph: ingest, features, every model family (in parallel "
    "processes), ensemble, registry with the promotion gate, and batch forecasts.",
    executor_def=dg.multiprocess_executor.configured({"max_concurrent": 0}),
    tags={INGESTION_TAG: "true"},
)

forecast_job = dg.define_asset_job(
    "forecast_job",
    selection=dg.AssetSelection.assets("demand_forecasts") | dg.AssetSelection.groups("pricing"),
    description="Refresh demand_forecasts from the champion on the newest data (no retraining), "
    "then the price elasticities, price recommendations and reorder points built on them.",
)

refresh_job = dg.define_asset_job(
    "refresh_job",
    selection=(
        dg.AssetSelection.groups("features", "monitoring")
        | dg.AssetSelection.assets("demand_forecasts")
    ),
    description="After new data: features, forecasts re-anchored from the champion (no "
    "retraining), yesterday's accuracy scored, drift against the training window updated.",
)
