"""New data flows end to end with no manual step: real M5 days replayed one POS file per day.

Each day's file goes into the landing zone; the sensors (evaluated by an in-process loop on an
ephemeral instance) ingest it, refresh features and forecasts (re-anchored, not retrained),
score the previous forecasts against the new actuals, and update the drift report.
"""

import json

import dagster as dg
import pandas as pd
import pytest
from testkit.m5_replay import load_m5_pos, write_day, write_initial
from testkit.sensor_loop import SensorLoop

from ml.monitoring.forecast_table import read_forecasts
from ml.monitoring.triggers import TRIGGER_TAG, read_accuracy
from orchestration.definitions import build_definitions
from orchestration.resources import BacktestResource, build_resources
from orchestration.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.m5]

ITEMS = ["FOODS_3_080", "FOODS_3_586", "HOBBIES_1_254", "HOUSEHOLD_1_474"]
TRAIN_END = "2016-04-14"
DAYS = pd.date_range("2016-04-15", periods=5)
SMALL_MODELS = json.dumps(
    {"lstm": {"epochs": 1, "samples_per_epoch": 2000}, "xgboost": {"n_estimators": 40}}
)


@pytest.fixture(scope="module")
def replay(m5_dir, tmp_path_factory):
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("replay") / "data",
        drift_current_days=3,
        accuracy_threshold=-1e9,  # no retraining here:
        drift_kl_threshold=1e9,
        drift_share_limit=1.0,
    )  # sensor tests cover it
    data = load_m5_pos(m5_dir, ["CA_1"], ITEMS, start="2016-01-01", end=str(DAYS[-1].date()))
    write_initial(data, settings.landing_path, TRAIN_END)
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    backtest = BacktestResource(h=7, n_windows=2, step_size=7, family_params=SMALL_MODELS)
    trained = defs.resolve_job_def("training_job").execute_in_process(
        instance=instance,
        resources={"backtest": backtest},
        raise_on_error=False,
        tags={TRIGGER_TAG: "manual", "retailiq/evidence": "first model"},
    )
    assert trained.success
    loop = SensorLoop(defs, instance, build_resources(settings), {"backtest": backtest})
    assert loop.run_until_quiet() == []  # the training run's own data launches nothing
    per_day = []
    for day in DAYS:
        write_day(data, day, settings.landing_path)
        per_day.append(loop.run_until_quiet())
    return settings, instance, per_day


def test_each_day_ingests_then_refreshes_with_no_manual_step(replay):
    _, _, per_day = replay
    for launched in per_day:
        assert [(r.sensor, r.job, r.success) for r in launched] == [
            ("landing_zone_sensor", "ingestion_job", True),
            ("new_data_sensor", "refresh_job", True),
        ]


def test_forecasts_are_re_anchored_daily_from_the_same_champion(replay):
    settings, _, _ = replay
    table = read_forecasts(settings.forecasts_url, latest_only=False)
    batches = table.groupby("generated_at")["forecast_date"].min().sort_values()
    assert len(batches) == 1 + len(DAYS)
    first_days = pd.to_datetime(batches.to_numpy())
    assert list(first_days[1:]) == list(DAYS + pd.Timedelta(days=1))
    assert set(table["model_version"]) == {"1"}


def test_accuracy_history_has_one_row_per_day_scored_against_the_served_forecast(replay):
    settings, _, _ = replay
    overall = read_accuracy(settings.forecasts_url)
    assert list(overall["day"]) == list(DAYS)  # re-scored every day, never duplicated
    assert overall["mean_horizon"].iloc[0] == 1.0  # each day scored on the day-ahead forecast
    assert overall["accuracy"].between(-100, 100).all()
    assert overall["coverage"].between(0, 100).all()
    departments = read_accuracy(settings.forecasts_url, scope=None)
    assert set(departments["scope"]) >= {"overall", "dept:FOODS_3", "dept:HOBBIES_1"}


def test_drift_report_follows_the_newest_day_against_the_training_window(replay):
    _, instance, _ = replay
    events = instance.fetch_materializations(dg.AssetKey("feature_drift_report"), limit=20).records
    assert len(events) == len(DAYS)
    latest = {k: v.value for k, v in events[0].asset_materialization.metadata.items()}
    assert latest["current_end"] == str(DAYS[-1].date())
    assert latest["current_start"] == str(DAYS[-3].date())
    assert latest["reference_end"] == TRAIN_END  # the champion's training window
    assert 0.0 <= latest["drifted_share"] <= 1.0 and latest["kl_max"] >= 0.0
