import dagster as dg
import pandas as pd

from assets.validation.checks import contract_results
from ml.data.validation import validate_frame
from ml.synthetic import write_landing_files
from orchestration.definitions import build_definitions


def _run_ingestion(settings):
    job = build_definitions(settings).resolve_job_def("ingestion_job")
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def test_ingestion_job_materialises_history_and_runs_every_check(settings, small_synthetic):
    write_landing_files(small_synthetic, settings.landing_path)
    (settings.landing_path / "broken.csv").write_bytes(b"date,store_id,item_id,units\nx,A,B,1\n")
    result = _run_ingestion(settings)
    assert result.success
    history = pd.read_parquet(settings.lake_path / "assets" / "sales_history.parquet")
    assert history["unique_id"].nunique() == 16
    assert history["is_filled"].sum() > 0  # the generator drops ~1% of rows
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert len(checks) == 9
    blocking = [
        "schema_and_types",
        "unique_keys",
        "non_negative_units",
        "positive_prices",
        "dates_in_range",
    ]
    assert all(checks[name].passed for name in blocking)
    assert checks["min_history"].passed
    raw_sales = next(
        m.materialization
        for m in result.get_asset_materialization_events()
        if m.materialization.asset_key.to_user_string() == "raw_sales"
    )
    assert "broken.csv" in raw_sales.metadata["quarantined_this_run"].value
    assert list(settings.quarantine_path.glob("*broken.csv.reason.json"))


def test_second_run_adds_nothing(settings, small_synthetic):
    write_landing_files(small_synthetic, settings.landing_path)
    first = _run_ingestion(settings)
    second = _run_ingestion(settings)
    assert first.success and second.success
    new_rows = [
        m.materialization.metadata["new_rows"].value
        for m in second.get_asset_materialization_events()
        if m.materialization.asset_key.to_user_string() == "raw_sales"
    ]
    assert new_rows == [0]
    [raw_sales] = [
        m.materialization
        for m in second.get_asset_materialization_events()
        if m.materialization.asset_key.to_user_string() == "raw_sales"
    ]
    assert raw_sales.metadata["dagster/row_count"].value == len(small_synthetic.sales)


def test_contract_checks_fail_on_a_bad_history_and_name_the_rows(small_synthetic):
    from ml.data.history import build_sales_history

    history = build_sales_history(small_synthetic.sales, small_synthetic.prices)
    history.loc[0, "y"] = -5.0
    results = {r.check_name: r for r in contract_results(validate_frame(history, "sales_history"))}
    assert not results["non_negative_units"].passed
    assert results["non_negative_units"].metadata["failing_rows"].value == 1
    assert results["non_negative_units"].severity == dg.AssetCheckSeverity.ERROR
    assert results["unique_keys"].passed


def test_no_sales_yet_skips_the_history_instead_of_failing(settings):
    settings.landing_path.mkdir(parents=True)
    (settings.landing_path / "calendar.csv").write_bytes(b"date,snap_CA\n2024-01-01,1\n")
    result = _run_ingestion(settings)
    assert result.success
    built = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert "raw_calendar" in built and "sales_history" not in built


def test_no_sales_because_the_sales_file_was_quarantined_names_that_file(settings):
    settings.landing_path.mkdir(parents=True)
    (settings.landing_path / "pos_export.csv").write_bytes(
        b"date,store_id,item_id,units\n2024-01-01,CA_1,X,-1.5\n"
    )
    result = _run_ingestion(settings)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    assert "pos_export.csv (fractional_units)" in message
    assert "drop a sales file" not in message


def test_ingestion_alerts_on_quarantined_files_and_rejected_rows(settings, caplog):
    import json
    import logging

    settings.landing_path.mkdir(parents=True)
    good = "\n".join(f"2024-01-{d:02d},CA_1,X,{d}" for d in range(1, 11))
    (settings.landing_path / "pos.csv").write_text(
        "date,store_id,item_id,units\n" + good + "\n2024-01-11,CA_1,X,0.5\n"
    )
    (settings.landing_path / "junk.csv").write_bytes(b"\x00\x01")
    with caplog.at_level(logging.WARNING, logger="retailiq.alerts"):
        result = _run_ingestion(settings)
    assert result.success
    [alert] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "retailiq.alerts"]
    assert alert["event"] == "files_rejected"
    assert [q["file"] for q in alert["details"]["quarantined"]] == ["junk.csv"]
    [partial] = alert["details"]["partially_ingested"]
    assert partial["file"] == "pos.csv" and partial["rejected_by_code"] == {"fractional_units": 1}
