"""Sensors: react to the world without anyone pressing a button.

New data flows on its own: a landed file launches ``ingestion_job`` (landing_zone_sensor); the
new ``sales_history`` launches ``refresh_job`` (new_data_sensor: features, forecasts re-anchored,
accuracy scored, drift updated); the accuracy history and the drift report launch
``training_job`` when they say so (accuracy_retrain_sensor, drift_retrain_sensor), with a
``retailiq/trigger`` tag, the evidence, and a cooldown so one episode retrains once.
"""

import json

import dagster as dg

from ml.data.ingest import new_files
from ml.monitoring.alerts import CHECK_FAILED, RETRAIN_TRIGGERED, RUN_FAILED
from ml.monitoring.triggers import (
    Trigger,
    accuracy_trigger,
    drift_trigger,
    in_cooldown,
    latest_trigger_day,
    read_accuracy,
)
from ml.registry.versions import CHAMPION, alias_version
from orchestration.jobs import forecast_job, ingestion_job, refresh_job, training_job
from orchestration.resources import (
    AlertsResource,
    ForecastTableResource,
    LakeResource,
    LandingZoneResource,
    MonitoringResource,
    RegistryResource,
)

SALES_HISTORY = dg.AssetKey("sales_history")
DRIFT_REPORT = dg.AssetKey("feature_drift_report")


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
    return dg.RunRequest(
        run_key=f"champion-{version}-{_moved_at(champion)}",
        tags={"retailiq/champion_version": version},
    )


def _moved_at(version) -> str:
    return version.tags.get("promoted_at") or version.tags.get("rolled_back_at") or "0"


@dg.sensor(
    job=refresh_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="New sales_history from ingestion -> features, forecasts, accuracy, drift.",
)
def new_data_sensor(context: dg.SensorEvaluationContext):
    """One refresh per ingestion that produced a new sales_history (run key = its event id).
    The training job rebuilds everything itself, so its materialisations are skipped."""
    event = _latest(context.instance, SALES_HISTORY)
    if event is None:
        return dg.SkipReason("sales_history has never been materialised")
    if context.cursor and int(context.cursor) >= event.storage_id:
        return dg.SkipReason("no new sales_history since the last refresh")
    context.update_cursor(str(event.storage_id))
    run = context.instance.get_run_by_id(event.run_id) if event.run_id else None
    if run is not None and run.job_name != ingestion_job.name:
        return dg.SkipReason(f"sales_history came from {run.job_name}, which refreshes itself")
    return dg.RunRequest(
        run_key=f"refresh-{event.storage_id}",
        tags={"retailiq/sales_history_event": str(event.storage_id)},
    )


@dg.sensor(
    job=training_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Retrains when accuracy (100 - WAPE) stays below the threshold for N days.",
)
def accuracy_retrain_sensor(
    context: dg.SensorEvaluationContext,
    forecast_table: ForecastTableResource,
    monitoring: MonitoringResource,
    alerts: AlertsResource,
):
    """Run key = the N dates; the cursor (last date used) keeps evidence from being reused."""
    history = read_accuracy(forecast_table.url)
    trigger = accuracy_trigger(
        history,
        monitoring.accuracy_threshold,
        monitoring.accuracy_days,
        after=context.cursor or None,
    )
    if trigger is None:
        return dg.SkipReason(
            f"accuracy not below {monitoring.accuracy_threshold} for "
            f"{monitoring.accuracy_days} new days in a row"
        )
    return _fire(context, trigger, monitoring, alerts, cursor=trigger.evidence_day)


@dg.sensor(
    job=training_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Retrains when the drift report shows KL > threshold or too many drifted columns.",
)
def drift_retrain_sensor(
    context: dg.SensorEvaluationContext, monitoring: MonitoringResource, alerts: AlertsResource
):
    """Reads the newest feature_drift_report's metadata once (cursor = its event id); run key =
    the report's reference and current windows."""
    event = _latest(context.instance, DRIFT_REPORT)
    if event is None:
        return dg.SkipReason("no drift report yet")
    if context.cursor and int(context.cursor) >= event.storage_id:
        return dg.SkipReason("no new drift report")
    numbers = {k: v.value for k, v in event.asset_materialization.metadata.items()}
    trigger = drift_trigger(numbers, monitoring.kl_threshold, monitoring.drifted_share_limit)
    if trigger is None:
        context.update_cursor(str(event.storage_id))
        return dg.SkipReason(
            f"no significant drift (KL {numbers['kl_significant']:.3f}, drifted "
            f"share {numbers['drifted_share']:.2f})"
        )
    return _fire(context, trigger, monitoring, alerts, cursor=str(event.storage_id))


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey) -> dg.EventLogRecord | None:
    """The newest materialisation record of an asset (with its storage id), or None."""
    records = instance.fetch_materializations(key, limit=1).records
    return records[0] if records else None


def _fire(
    context: dg.SensorEvaluationContext,
    trigger: Trigger,
    monitoring: MonitoringResource,
    alerts: AlertsResource,
    cursor: str,
):
    """A training run for the trigger, unless an automatic retrain answered this episode
    within the cooldown; the evidence is consumed either way."""
    context.update_cursor(cursor)
    runs = context.instance.get_runs(dg.RunsFilter(job_name=training_job.name), limit=200)
    last = latest_trigger_day([run.tags for run in runs])
    if in_cooldown(trigger.evidence_day, last, monitoring.cooldown_days):
        return dg.SkipReason(
            f"{trigger.kind} evidence {trigger.run_key} within "
            f"{monitoring.cooldown_days} days of the retrain for {last}"
        )
    alerts.emit(
        RETRAIN_TRIGGERED,
        f"{trigger.kind} trigger: retraining ({trigger.run_key})",
        {**trigger.tags(), "evidence": dict(trigger.evidence)},
    )
    return dg.RunRequest(run_key=trigger.run_key, tags=trigger.tags())


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="One alert per failed run (its failed steps and errors) and one per failing "
    "blocking asset check in it.",
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext, alerts: AlertsResource):
    """A red run is never silent: sales_history failing, a model step crashing, or a blocking
    check with ERROR severity stopping the run each raise an alert."""
    run = context.dagster_run
    steps = failed_steps(context.get_step_failure_events())
    alerts.emit(
        RUN_FAILED,
        f"run {run.run_id[:8]} of {run.job_name} failed"
        + (f" in {', '.join(s['step'] for s in steps)}" if steps else ""),
        {"run_id": run.run_id, "job": run.job_name, "failed_steps": steps},
    )
    for failed in failed_blocking_checks(context.instance, run.run_id):
        alerts.emit(
            CHECK_FAILED,
            f"blocking check {failed['check']} failed on {failed['asset']} in run {run.run_id[:8]}",
            {**failed, "run_id": run.run_id, "job": run.job_name},
        )


def failed_steps(events) -> list[dict]:
    """Step key and the underlying error of each failed step (Dagster wraps the user's
    exception in a step execution error; the cause is what a person needs to read)."""
    steps = []
    for event in events:
        error = event.event_specific_data.error if event.event_specific_data else None
        while error is not None and error.cause is not None:
            error = error.cause
        message = error.message.strip() if error else "unknown error"
        steps.append({"step": event.step_key, "error": message[:1000]})
    return steps


def failed_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> list[dict]:
    """The failed, blocking, ERROR-severity check evaluations of a run."""
    records = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    failed = []
    for record in records:
        evaluation = record.dagster_event.event_specific_data
        if evaluation.passed or not evaluation.blocking:
            continue
        if evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        failed.append(
            {
                "asset": evaluation.asset_key.to_user_string(),
                "check": evaluation.check_name,
                "metadata": json.dumps({k: str(v.value) for k, v in evaluation.metadata.items()})[
                    :1000
                ],
            }
        )
    return failed
