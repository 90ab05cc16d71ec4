"""The monitoring assets through Dagster on the small synthetic retailer (no model needed)."""

from datetime import datetime

import dagster as dg
import mlflow
import pandas as pd
import pytest

from assets.ingestion.assets import sales_history
from assets.monitoring.assets import feature_drift_report, forecast_accuracy
from ml.monitoring.forecast_table import append_forecasts
from ml.monitoring.triggers import read_accuracy
from ml.synthetic import write_landing_files
from orchestration.definitions import build_definitions
from orchestration.resources import build_resources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory, small_synthetic):
    from orchestration.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("monitoring") / "data")
    write_landing_files(small_synthetic, settings.landing_path)
    instance = dg.DagsterInstance.ephemeral()
    job = build_definitions(settings).resolve_job_def("data_job")
    assert job.execute_in_process(instance=instance, raise_on_error=False).success
    return settings, instance, build_resources(settings)


def test_drift_report_without_a_model_compares_the_latest_week_with_the_weeks_before(built):
    settings, instance, resources = built
    result = dg.materialize([feature_drift_report], instance=instance, resources=resources)
    assert result.success
    [mat] = result.asset_materializations_for_node("feature_drift_report")
    md = {k: v.value for k, v in mat.metadata.items()}
    assert md["reference_model_version"] == "none"
    assert pd.Timestamp(md["reference_end"]) + pd.Timedelta(days=1) == pd.Timestamp(
        md["current_start"]
    )
    for name in ("kl_max", "kl_significant", "drifted_share", "kl_target"):
        assert isinstance(md[name], float), name
    with open(md["report"]) as handle:
        assert "<html" in handle.read(5000).lower()
    run = mlflow.MlflowClient(settings.tracking_uri).get_run(md["mlflow_run_id"])
    assert "drifted_share" in run.data.metrics
    experiment = mlflow.MlflowClient(settings.tracking_uri).get_experiment(run.info.experiment_id)
    assert experiment.name == "retailiq-monitoring"
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == "no_significant_drift"


def test_accuracy_scores_served_forecasts_and_rescoring_never_duplicates(built, small_synthetic):
    settings, instance, resources = built
    history = small_synthetic.sales
    last = pd.Timestamp(history["date"].max())
    ids = (history["store_id"] + "__" + history["item_id"]).unique()[:4]
    rows = pd.DataFrame(
        [
            {
                "unique_id": uid,
                "store_id": uid.split("__")[0],
                "item_id": uid.split("__")[1],
                "forecast_date": (last - pd.Timedelta(days=2 - h)).date(),
                "horizon": h + 1,
                "predicted_quantity": 5.0,
                "lower_bound": 0.0,
                "upper_bound": 50.0,
                "interval_level": 95,
                "model_name": "demand_forecaster",
                "model_version": "1",
                "generated_at": datetime(2024, 1, 1),
            }
            for uid in ids
            for h in range(3)
        ]
    )
    append_forecasts(rows, settings.forecasts_url)
    for _ in range(2):
        result = dg.materialize(
            [sales_history, forecast_accuracy],
            instance=instance,
            resources=resources,
            selection=[forecast_accuracy],
        )
        assert result.success
    overall = read_accuracy(settings.forecasts_url)
    assert len(overall) == 3 and overall["day"].is_unique
    assert (overall["n_series"] == 4).all() and (overall["coverage"] <= 100).all()
    [mat] = result.asset_materializations_for_node("forecast_accuracy")
    assert mat.metadata["day"].value == str(last.date())
    assert isinstance(mat.metadata["accuracy"].value, float)


def test_drift_report_watches_exactly_the_champions_inputs_and_the_target(built, tmp_path):
    """The columns come from the champion's ``model_features`` tag (what its members read),
    less calendar and static inputs and the join-only ones; nothing else is watched."""
    import json

    from ml.registry.versions import CHAMPION, MODEL_FEATURES_TAG

    settings, instance, resources = built
    registry = resources["registry"]
    client = registry.client()
    client.create_registered_model(registry.model_name)
    (tmp_path / "model").mkdir()
    version = client.create_model_version(registry.model_name, str(tmp_path / "model"))
    inputs = ["horizon", "same_wday_lag", "lag_7", "day_of_week", "price_ratio_4w", "item_code"]
    client.set_model_version_tag(
        registry.model_name, version.version, MODEL_FEATURES_TAG, json.dumps(inputs)
    )
    client.set_registered_model_alias(registry.model_name, CHAMPION, version.version)
    try:
        result = dg.materialize([feature_drift_report], instance=instance, resources=resources)
    finally:
        client.delete_registered_model(registry.model_name)
    [mat] = result.asset_materializations_for_node("feature_drift_report")
    md = {k: v.value for k, v in mat.metadata.items()}
    assert md["watched_columns"] == ["y", "lag_7", "price_ratio_4w"]
    assert md["watched_columns_from"] == f"champion version {version.version}"
    reported = [line.split("|")[1].strip() for line in md["columns"].splitlines()[2:]]
    assert reported == ["y", "lag_7", "price_ratio_4w"]  # the per-column table: these only
