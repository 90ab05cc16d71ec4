from pathlib import Path

from testkit.processes import run_python

from orchestration.definitions import build_definitions, defs

REPO_ROOT = Path(__file__).resolve().parents[2]

EXPECTED_ASSETS = {
    "raw_sales",
    "raw_prices",
    "raw_calendar",
    "raw_products",
    "raw_sales_monthly",
    "sales_history",
    "features",
    "online_features",
    "feature_drift_report",
    "forecast_accuracy",
}
EXPECTED_CHECKS = {
    "schema_and_types",
    "unique_keys",
    "non_negative_units",
    "positive_prices",
    "dates_in_range",
    "min_history",
    "missing_days",
    "outliers",
    "near_zero_variance",
    "no_missing_features",
    "no_future_leakage",
    "features_version_matches_code",
    "online_version_matches_code",
    "no_significant_drift",
}


def test_definitions_load_with_the_expected_graph(settings):
    loaded = build_definitions(settings)
    graph = loaded.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys >= EXPECTED_ASSETS
    checks = {key.name for key in graph.asset_check_keys}
    assert checks >= EXPECTED_CHECKS
    assert loaded.resolve_job_def("ingestion_job") is not None
    assert loaded.resolve_job_def("data_job") is not None
    assert loaded.resolve_sensor_def("landing_zone_sensor") is not None
    assert loaded.resolve_job_def("refresh_job") is not None
    for name in (
        "new_data_sensor",
        "accuracy_retrain_sensor",
        "drift_retrain_sensor",
        "run_failure_alert_sensor",
    ):
        assert loaded.resolve_sensor_def(name) is not None


def test_module_level_definitions_exist():
    assert defs.resolve_asset_graph() is not None


def test_dagster_definitions_validate_passes(tmp_path):
    env = {"DAGSTER_HOME": str(tmp_path), "PATH": ""}
    (tmp_path / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    args = ["-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"]
    result = run_python(args, cwd=REPO_ROOT, env=env, timeout=120)
    assert "passed validation" in result.stderr + result.stdout
