"""Every retraining trigger, evaluated with build_sensor_context on an ephemeral instance, and
the rules that keep the same evidence (or the same episode) from retraining twice."""

import json
import logging
from datetime import UTC, datetime

import dagster as dg
import pandas as pd
import pytest
from dagster._core.utils import make_new_run_id

from ml.monitoring.triggers import EVIDENCE_DAY_TAG, EVIDENCE_TAG, TRIGGER_TAG, write_accuracy
from orchestration.resources import build_resources
from orchestration.schedules import weekly_training_schedule
from orchestration.sensors import (
    accuracy_retrain_sensor,
    drift_retrain_sensor,
    new_data_sensor,
    run_failure_alert_sensor,
)


@pytest.fixture
def env(settings):
    return dg.DagsterInstance.ephemeral(), build_resources(settings), settings


def _evaluate(sensor, env, cursor=None):
    instance, resources, _ = env
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        return sensor(context), context.cursor


def _scores(settings, days: pd.DatetimeIndex, accuracy: list[float]) -> None:
    rows = pd.DataFrame(
        {
            "day": days.date,
            "scope": "overall",
            "accuracy": accuracy,
            "wape": [100 - a for a in accuracy],
        }
    )
    write_accuracy(rows, settings.forecasts_url)


def _drift_report(instance, current_end: str, kl: float, share: float = 0.1) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            "feature_drift_report",
            metadata={
                "kl_significant": kl,
                "kl_max": kl,
                "kl_significant_column": "sell_price",
                "drifted_share": share,
                "reference_start": "2024-01-01",
                "reference_end": "2024-01-28",
                "current_start": "2024-02-01",
                "current_end": current_end,
            },
        )
    )


def _training_run(instance, trigger: str, evidence_day: str) -> None:
    instance.add_run(
        dg.DagsterRun(
            job_name="training_job",
            run_id=make_new_run_id(),
            tags={TRIGGER_TAG: trigger, EVIDENCE_DAY_TAG: evidence_day},
        )
    )


def test_accuracy_below_85_for_three_days_requests_one_tagged_training_run(env, caplog):
    _scores(env[2], pd.date_range("2024-02-01", periods=4), [90, 84, 80, 70])
    with caplog.at_level(logging.WARNING, logger="retailiq.alerts"):
        request, cursor = _evaluate(accuracy_retrain_sensor, env)
    assert request.run_key == "accuracy:2024-02-02,2024-02-03,2024-02-04"
    assert request.tags[TRIGGER_TAG] == "accuracy"
    assert json.loads(request.tags[EVIDENCE_TAG])["accuracy"] == [84.0, 80.0, 70.0]
    assert cursor == "2024-02-04"
    [alert] = [json.loads(r.getMessage()) for r in caplog.records]
    assert alert["event"] == "retrain_triggered" and alert["details"][TRIGGER_TAG] == "accuracy"
    again, _ = _evaluate(accuracy_retrain_sensor, env, cursor)
    assert isinstance(again, dg.SkipReason)  # the same evidence never fires twice


def test_accuracy_needs_three_new_days_after_the_evidence_it_used(env):
    _scores(env[2], pd.date_range("2024-02-01", periods=5), [80, 80, 80, 80, 80])
    first, cursor = _evaluate(accuracy_retrain_sensor, env)
    assert first.run_key.endswith("2024-02-05")
    _scores(env[2], pd.date_range("2024-02-06", periods=2), [80, 80])
    assert isinstance(_evaluate(accuracy_retrain_sensor, env, cursor)[0], dg.SkipReason)
    _scores(env[2], pd.date_range("2024-02-08", periods=1), [80])
    third, _ = _evaluate(accuracy_retrain_sensor, env, cursor)
    assert third.run_key == "accuracy:2024-02-06,2024-02-07,2024-02-08"


def test_good_accuracy_skips(env):
    _scores(env[2], pd.date_range("2024-02-01", periods=5), [90, 91, 92, 80, 95])
    assert isinstance(_evaluate(accuracy_retrain_sensor, env)[0], dg.SkipReason)


def test_significant_drift_requests_training_once_per_report(env):
    instance = env[0]
    _drift_report(instance, "2024-02-07", kl=0.4)
    request, cursor = _evaluate(drift_retrain_sensor, env)
    assert request.run_key == "drift:2024-01-28:2024-02-07"
    assert request.tags[TRIGGER_TAG] == "drift"
    assert "KL 0.400" in json.loads(request.tags[EVIDENCE_TAG])["reasons"][0]
    assert isinstance(_evaluate(drift_retrain_sensor, env, cursor)[0], dg.SkipReason)


def test_small_drift_and_no_report_skip(env):
    assert "no drift report" in _evaluate(drift_retrain_sensor, env)[0].skip_message
    _drift_report(env[0], "2024-02-07", kl=0.05, share=0.2)
    skipped, cursor = _evaluate(drift_retrain_sensor, env)
    assert "no significant drift" in skipped.skip_message and cursor is not None


def test_drifted_share_above_the_limit_triggers_without_kl(env):
    _drift_report(env[0], "2024-02-07", kl=0.0, share=0.8)
    request, _ = _evaluate(drift_retrain_sensor, env)
    assert request.tags[TRIGGER_TAG] == "drift"


def test_an_episode_already_retrained_for_is_in_cooldown_for_every_automatic_trigger(env):
    instance = env[0]
    _training_run(instance, "drift", "2024-02-03")
    _scores(env[2], pd.date_range("2024-02-03", periods=3), [80, 80, 80])
    skipped, cursor = _evaluate(accuracy_retrain_sensor, env)
    assert "within 7 days" in skipped.skip_message and cursor == "2024-02-05"
    _drift_report(instance, "2024-02-11", kl=0.4)  # 8 data days later: a new episode
    assert _evaluate(drift_retrain_sensor, env)[0].tags[TRIGGER_TAG] == "drift"


def test_scheduled_and_manual_runs_do_not_start_a_cooldown(env):
    _training_run(env[0], "schedule", "2024-02-04")
    _training_run(env[0], "manual", "2024-02-04")
    _scores(env[2], pd.date_range("2024-02-03", periods=3), [80, 80, 80])
    assert _evaluate(accuracy_retrain_sensor, env)[0].tags[TRIGGER_TAG] == "accuracy"


def test_weekly_schedule_tags_its_runs_with_the_schedule_trigger(env):
    sunday = datetime(2024, 2, 4, 3, tzinfo=UTC)
    with dg.build_schedule_context(
        instance=env[0], scheduled_execution_time=sunday, resources={"alerts": env[1]["alerts"]}
    ) as context:
        request = weekly_training_schedule.evaluate_tick(context).run_requests[0]
    assert request.run_key == "schedule:2024-02-04"
    assert request.tags[TRIGGER_TAG] == "schedule"
    assert weekly_training_schedule.cron_schedule == "0 3 * * 0"


def test_new_sales_history_requests_one_refresh(env):
    env[0].report_runless_asset_event(dg.AssetMaterialization("sales_history"))
    request, cursor = _evaluate(new_data_sensor, env)
    assert request.run_key.startswith("refresh-")
    assert isinstance(_evaluate(new_data_sensor, env, cursor)[0], dg.SkipReason)


@dg.asset
def guarded():
    return 1


@dg.asset_check(asset=guarded, blocking=True)
def always_fails():
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata={"observed": 3}
    )


@dg.asset(deps=[guarded])
def downstream():
    return 2


def _alert_on_failure(env, result, caplog) -> None:
    """Evaluate the run failure sensor on a failed run, capturing the alert log lines."""
    instance = env[0]
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert_sensor",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        resources={"alerts": env[1]["alerts"]},
    ).for_run_failure()
    with caplog.at_level(logging.WARNING, logger="retailiq.alerts"):
        run_failure_alert_sensor(context)


def test_a_failing_blocking_check_raises_a_run_alert_and_one_check_alert(env, caplog):
    instance = env[0]
    result = dg.materialize(
        [guarded, downstream, always_fails], instance=instance, raise_on_error=False
    )
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    _alert_on_failure(env, result, caplog)
    run_alert, alert = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "retailiq.alerts"
    ]
    assert run_alert["event"] == "run_failed" and run_alert["details"]["run_id"] == run.run_id
    assert alert["event"] == "check_failed"
    assert alert["details"]["check"] == "always_fails" and alert["details"]["asset"] == "guarded"


@dg.asset
def crashing_history():
    raise ValueError("value_name (snap) cannot match an element in the DataFrame columns")


def test_a_failed_step_raises_an_alert_naming_the_step_and_its_error(env, caplog):
    instance = env[0]
    result = dg.materialize([crashing_history], instance=instance, raise_on_error=False)
    _alert_on_failure(env, result, caplog)
    [alert] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "retailiq.alerts"]
    assert alert["event"] == "run_failed"
    [step] = alert["details"]["failed_steps"]
    assert step["step"] == "crashing_history" and "cannot match" in step["error"]
