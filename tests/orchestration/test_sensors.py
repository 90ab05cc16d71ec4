import dagster as dg

from ml.data.ingest import checksum_of, ingest_pending
from orchestration.resources import build_resources
from orchestration.sensors import landing_zone_sensor

SALES = b"date,store_id,item_id,units\n2024-01-01,CA_1,FOODS_1_001,3\n"


def _evaluate(settings, instance):
    resources = build_resources(settings)
    with dg.build_sensor_context(
        instance=instance, resources={k: resources[k] for k in ("landing", "lake")}
    ) as context:
        return landing_zone_sensor(context)


def test_new_file_requests_a_run_keyed_by_checksum_then_nothing_after_ingestion(settings):
    instance = dg.DagsterInstance.ephemeral()
    settings.landing_path.mkdir(parents=True)
    (settings.landing_path / "sales_day1.csv").write_bytes(SALES)
    requests = _evaluate(settings, instance)
    assert [r.run_key for r in requests] == [checksum_of(SALES)]
    assert requests[0].tags["retailiq/file"] == "sales_day1.csv"
    resources = build_resources(settings)
    ingest_pending(resources["landing"].source(), resources["lake"].lake())
    skipped = _evaluate(settings, instance)
    assert isinstance(skipped, dg.SkipReason)


def test_the_same_bytes_under_two_names_request_one_run(settings):
    settings.landing_path.mkdir(parents=True)
    (settings.landing_path / "a.csv").write_bytes(SALES)
    (settings.landing_path / "b.csv").write_bytes(SALES)
    requests = _evaluate(settings, dg.DagsterInstance.ephemeral())
    assert len(requests) == 1


def test_empty_landing_zone_skips(settings):
    result = _evaluate(settings, dg.DagsterInstance.ephemeral())
    assert isinstance(result, dg.SkipReason)
    assert str(settings.landing_path) in result.skip_message
