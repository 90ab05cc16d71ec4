"""Sensors: react to the world without anyone pressing a button."""


import dagster as dg

from ml.data.ingest import new_files
from orchestration.jobs import ingestion_job
from orchestration.resources import LakeResource, LandingZoneResource


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
