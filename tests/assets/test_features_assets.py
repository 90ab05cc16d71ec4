import shutil

import dagster as dg
import pytest

from assets.features.checks import features_version_matches_code
from feature_store import FEATURE_SET_VERSION
from ml.synthetic import write_landing_files
from orchestration.definitions import build_definitions
from orchestration.resources import build_resources


@pytest.fixture
def data_run(settings, small_synthetic):
    write_landing_files(small_synthetic, settings.landing_path)
    job = build_definitions(settings).resolve_job_def("data_job")
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def test_data_job_builds_offline_and_online_features_and_every_gate_passes(data_run, settings):
    assert data_run.success
    checks = {c.check_name: c.passed for c in data_run.get_asset_check_evaluations()}
    for name in (
        "no_missing_features",
        "no_future_leakage",
        "features_version_matches_code",
        "online_version_matches_code",
    ):
        assert checks[name], name
    store = build_resources(settings)["feature_store"]
    table = store.offline().read()
    assert table["unique_id"].nunique() == 16
    with store.online() as online:
        assert len(online.ids()) == 16
        row = online.read_one(online.ids()[0])
        assert row is not None and "lag_7" in row
        assert online.version() == FEATURE_SET_VERSION


def test_version_gate_fails_when_the_table_is_not_this_code_version(data_run, settings):
    store = build_resources(settings)["feature_store"]
    shutil.rmtree(store.offline().folder())
    result = features_version_matches_code(feature_store=store)
    assert not result.passed
    assert result.metadata["code_version"].value == FEATURE_SET_VERSION
