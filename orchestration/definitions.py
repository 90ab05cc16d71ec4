"""The Dagster code location: every asset, check, job, sensor and resource, bound once."""

from __future__ import annotations

import dagster as dg

from assets.ingestion.assets import lake_tables, sales_history
from assets.validation.checks import sales_history_contract, sales_history_quality
from orchestration.jobs import ingestion_job
from orchestration.resources import build_resources
from orchestration.sensors import landing_zone_sensor
from orchestration.settings import get_settings


def build_definitions(settings=None) -> dg.Definitions:
    """Definitions for the given settings (the environment's by default)."""
    return dg.Definitions(
        assets=[lake_tables, sales_history],
        asset_checks=[sales_history_contract, sales_history_quality],
        jobs=[ingestion_job],
        sensors=[landing_zone_sensor],
        resources=build_resources(settings or get_settings()),
    )


defs = build_definitions()
