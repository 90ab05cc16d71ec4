"""The Dagster code location: every asset, check, job, sensor and resource, bound once."""

from __future__ import annotations

import dagster as dg

from assets.features.assets import features, online_features
from assets.features.checks import (
    features_version_matches_code,
    no_future_leakage,
    no_missing_features,
    online_version_matches_code,
)
from assets.ingestion.assets import lake_tables, sales_history
from assets.models.assets import MODEL_ASSETS, MODEL_CHECKS
from assets.validation.checks import sales_history_contract, sales_history_quality
from orchestration.jobs import data_job, ingestion_job, training_job
from orchestration.resources import build_resources
from orchestration.sensors import landing_zone_sensor
from orchestration.settings import get_settings


def build_definitions(settings=None) -> dg.Definitions:
    """Definitions for the given settings (the environment's by default)."""
    return dg.Definitions(
        assets=[lake_tables, sales_history, features, online_features, *MODEL_ASSETS],
        asset_checks=[
            sales_history_contract,
            sales_history_quality,
            no_missing_features,
            no_future_leakage,
            features_version_matches_code,
            online_version_matches_code,
            *MODEL_CHECKS,
        ],
        jobs=[ingestion_job, data_job, training_job],
        sensors=[landing_zone_sensor],
        resources=build_resources(settings or get_settings()),
    )


defs = build_definitions()
