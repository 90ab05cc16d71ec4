"""Schedules: retrain weekly, refresh forecasts daily."""

import dagster as dg

from ml.monitoring.alerts import RETRAIN_TRIGGERED
from ml.monitoring.triggers import Trigger
from orchestration.jobs import forecast_job, training_job
from orchestration.resources import AlertsResource


@dg.schedule(
    name="weekly_training_schedule",
    job=training_job,
    cron_schedule="0 3 * * 0",  # Sundays 03:00, per the design documents
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Retrain every family, re-evaluate the ensemble and gate a new challenger.",
)
def weekly_training_schedule(context: dg.ScheduleEvaluationContext, alerts: AlertsResource):
    """The ``schedule`` trigger: one run per scheduled Sunday (run key = that date)."""
    day = str(context.scheduled_execution_time.date())
    trigger = Trigger("schedule", f"schedule:{day}", day, {"cron": "0 3 * * 0", "day": day})
    alerts.emit(RETRAIN_TRIGGERED, f"weekly retraining for {day}", trigger.tags())
    return dg.RunRequest(run_key=trigger.run_key, tags=trigger.tags())


daily_forecast_schedule = dg.ScheduleDefinition(
    name="daily_forecast_schedule",
    job=forecast_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh next-h forecasts from the champion on the newest data.",
)
