"""Sensors: react to the world without anyone pressing a button."""


import dagster as dg

from ml.data.ingest import new_files
from ml.registry import CHAMPION, alias_version
from orchestration.jobs import forecast_job, ingestion_job
from orchestration.resources import LakeResource, LandingZoneResource, RegistryResource


@dg.sensor(
    job=ingestion_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches ingestion for every new file in the landing zone (run key = checksum).",
)
def landing_zone_sensor(
    context: dg.SensorEvaluationContext, landing: LandingZoneResource, lake: LakeResource
):
    """One run request per new file; the run key is the file's content checksum, so the same
    bytes dropped again (under any name) never launch a second run."""
    pending = new_files(landing.source(), lake.lake())
    if not pending:
        return dg.SkipReason(f"no new files in {landing.describe()}")
    by_checksum = {checksum: key for key, checksum in sorted(pending.items(), reverse=True)}
    return [
        dg.RunRequest(run_key=checksum, tags={"retailiq/file": key[-200:]})
        for checksum, key in sorted(by_checksum.items(), key=lambda item: item[1])
    ]


@dg.sensor(
    job=forecast_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Refreshes demand_forecasts whenever the champion alias moves (promotion, "
    "manual promotion or rollback).",
)
def champion_alias_sensor(context: dg.SensorEvaluationContext, registry: RegistryResource):
    """Run key = the champion version, so each move refreshes forecasts exactly once."""
    champion = alias_version(registry.client(), registry.model_name, CHAMPION)
    if champion is None:
        return dg.SkipReason(f"{registry.model_name} has no champion yet")
    version = str(champion.version)
    if context.cursor == version:
        return dg.SkipReason(f"champion is still version {version}")
    context.update_cursor(version)
    return dg.RunRequest(run_key=f"champion-{version}-{_moved_at(champion)}",
                         tags={"retailiq/champion_version": version})


def _moved_at(version) -> str:
    return version.tags.get("promoted_at") or version.tags.get("rolled_back_at") or "0"
