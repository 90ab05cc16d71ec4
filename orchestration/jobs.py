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

training_job = dg.define_asset_job(
    "training_job",
    selection=dg.AssetSelection.groups("ingestion", "features", "models"),
    description="Ingest, rebuild features, and backtest and train every model family; the "
    "families run in parallel processes.",
    executor_def=dg.multiprocess_executor.configured({"max_concurrent": 0}),
    tags={INGESTION_TAG: "true"},
)
