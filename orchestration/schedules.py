"""Schedules: retrain weekly, refresh forecasts daily."""

import dagster as dg

from orchestration.jobs import forecast_job, training_job

weekly_training_schedule = dg.ScheduleDefinition(
    name="weekly_training_schedule",
    job=training_job,
    cron_schedule="0 3 * * 0",  # Sundays 03:00, per the design documents
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    tags={"retailiq/trigger": "weekly"},
    description="Retrain every family, re-evaluate the ensemble and gate a new challenger.",
)

daily_forecast_schedule = dg.ScheduleDefinition(
    name="daily_forecast_schedule",
    job=forecast_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh next-h forecasts from the champion on the newest data.",
)
