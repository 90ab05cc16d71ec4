"""The Dagster code location: every asset, check, job, sensor and resource, bound once."""

from __future__ import annotations

import dagster as dg

from assets.evaluation.assets import ensemble_evaluation
from assets.features.assets import features, online_features
from assets.features.checks import (
    features_version_matches_code,
    no_future_leakage,
    no_missing_features,
    online_version_matches_code,
)
from assets.forecasts.assets import demand_forecasts
from assets.ingestion.assets import lake_tables, sales_history
from assets.models.assets import MODEL_ASSETS, MODEL_CHECKS
from assets.monitoring.assets import feature_drift_report, forecast_accuracy
from assets.pricing.assets import price_elasticity, price_recommendations, reorder_points
from assets.registry.assets import demand_forecaster, promotion_gate
from assets.registry.operations import promote_job, rollback_job
from assets.validation.checks import sales_history_contract, sales_history_quality
from orchestration.jobs import data_job, forecast_job, ingestion_job, refresh_job, training_job
from orchestration.resources import build_resources
from orchestration.schedules import daily_forecast_schedule, weekly_training_schedule
from orchestration.sensors import (
    accuracy_retrain_sensor,
    champion_alias_sensor,
    drift_retrain_sensor,
    landing_zone_sensor,
    new_data_sensor,
    run_failure_alert_sensor,
)
from orchestration.settings import get_settings


def build_definitions(settings=None) -> dg.Definitions:
    """Definitions for the given settings (the environment's by default)."""
    return dg.Definitions(
        assets=[
            lake_tables,
            sales_history,
            features,
            online_features,
            *MODEL_ASSETS,
            ensemble_evaluation,
            demand_forecaster,
            demand_forecasts,
            price_elasticity,
            price_recommendations,
            reorder_points,
            feature_drift_report,
            forecast_accuracy,
        ],
        asset_checks=[
            sales_history_contract,
            sales_history_quality,
            no_missing_features,
            no_future_leakage,
            features_version_matches_code,
            online_version_matches_code,
            *MODEL_CHECKS,
            promotion_gate,
        ],
        jobs=[
            ingestion_job,
            data_job,
            training_job,
            forecast_job,
            refresh_job,
            promote_job,
            rollback_job,
        ],
        schedules=[weekly_training_schedule, daily_forecast_schedule],
        sensors=[
            landing_zone_sensor,
            champion_alias_sensor,
            new_data_sensor,
            accuracy_retrain_sensor,
            drift_retrain_sensor,
            run_failure_alert_sensor,
        ],
        resources=build_resources(settings or get_settings()),
    )


defs = build_definitions()


def resolve_job(name: str) -> dg.JobDefinition:
    """A job of the module-level definitions (what ``reconstructable`` needs to run it in
    worker processes)."""
    return defs.resolve_job_def(name)
