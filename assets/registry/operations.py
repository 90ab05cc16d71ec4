"""Hand-operated registry moves: promote a named version, roll the champion back."""

import dagster as dg
from pydantic import Field

from ml.monitoring.alerts import MODEL_PROMOTED, MODEL_ROLLED_BACK
from ml.registry.versions import promote_version, rollback
from orchestration.resources import AlertsResource, RegistryResource


class PromoteConfig(dg.Config):
    version: str = Field(description="Registered version to make champion, e.g. '3'.")
    reason: str = Field("", description="Why, for the version's tags and the audit trail.")


@dg.op(description="Point the champion alias at a version (no gate; reason recorded).")
def promote_named_version(
    context: dg.OpExecutionContext,
    config: PromoteConfig,
    registry: RegistryResource,
    alerts: AlertsResource,
) -> None:
    version = promote_version(registry.client(), registry.model_name, config.version, config.reason)
    context.log.info("champion is now version %s (%s)", version.version, config.reason)
    alerts.emit(
        MODEL_PROMOTED,
        f"{registry.model_name} version {version.version} promoted by hand",
        {"version": str(version.version), "reason": config.reason, "run_id": context.run_id},
    )


@dg.op(description="Move the champion alias back to the version it replaced.")
def rollback_champion(
    context: dg.OpExecutionContext, registry: RegistryResource, alerts: AlertsResource
) -> None:
    version = rollback(registry.client(), registry.model_name)
    context.log.info("champion rolled back to version %s", version.version)
    alerts.emit(
        MODEL_ROLLED_BACK,
        f"{registry.model_name} champion rolled back to version {version.version}",
        {"version": str(version.version), "run_id": context.run_id},
    )


@dg.job(
    description="Promote a named demand_forecaster version to champion by hand.",
    tags={"retailiq/registry": "promote"},
)
def promote_job():
    promote_named_version()


@dg.job(
    description="Roll the demand_forecaster champion back to the previous champion.",
    tags={"retailiq/registry": "rollback"},
)
def rollback_job():
    rollback_champion()
