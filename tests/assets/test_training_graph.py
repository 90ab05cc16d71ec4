"""The whole training graph through Dagster: families -> ensemble -> registry gate -> forecasts."""

import json

import dagster as dg
import pytest

from ml.monitoring.forecast_table import read_forecasts
from ml.registry.versions import CHALLENGER, CHAMPION, alias_version, missing_tags
from ml.synthetic import write_landing_files
from orchestration.definitions import build_definitions
from orchestration.resources import BacktestResource
from orchestration.settings import Settings

pytestmark = pytest.mark.slow

SMALL_MODELS = json.dumps(
    {
        "lstm": {"epochs": 1, "samples_per_epoch": 3000},
        "xgboost": {"n_estimators": 60},
    }
)


@pytest.fixture(scope="module")
def graph(tmp_path_factory, small_synthetic):
    settings = Settings(data_dir=tmp_path_factory.mktemp("graph") / "data")
    write_landing_files(small_synthetic, settings.landing_path)
    defs = build_definitions(settings)
    backtest = BacktestResource(h=7, n_windows=2, step_size=7, family_params=SMALL_MODELS)
    instance = dg.DagsterInstance.ephemeral()

    def run(job_name, **kwargs):
        job = defs.resolve_job_def(job_name)
        return job.execute_in_process(
            instance=instance, resources={"backtest": backtest}, raise_on_error=False, **kwargs
        )

    return run, defs.resources["registry"], settings


def test_first_training_run_registers_and_promotes_then_forecasts(graph, global_uris):
    run, registry, settings = graph
    result = _training(run)
    assert result.success
    client = registry.client()
    champion = alias_version(client, registry.model_name, CHAMPION)
    assert champion is not None and str(champion.version) == "1"
    assert missing_tags(champion.tags) == []
    assert champion.tags["promotion.decision"] == "promote"
    _assert_version_lists_what_its_members_read(registry, champion)
    gate = next(c for c in result.get_asset_check_evaluations() if c.check_name == "promotion_gate")
    assert gate.passed
    forecasts = result.output_for_node("demand_forecasts")
    assert forecasts["unique_id"].nunique() == 16
    assert forecasts.groupby("unique_id").size().eq(7).all()
    table = read_forecasts(settings.forecasts_url)
    assert set(table["model_version"]) == {"1"}
    assert (table["lower_bound"] <= table["predicted_quantity"]).all()
    assert (table["predicted_quantity"] <= table["upper_bound"]).all()


def test_second_version_is_gated_and_manual_promotion_and_rollback_move_the_alias(graph):
    run, registry, _ = graph
    result = _training(run)
    assert result.success or _only_the_gate_warned(result)
    client = registry.client()
    assert str(alias_version(client, registry.model_name, CHALLENGER).version) == "2"
    decision = client.get_model_version(registry.model_name, "2").tags["promotion.decision"]
    champion = str(alias_version(client, registry.model_name, CHAMPION).version)
    assert champion == ("2" if decision == "promote" else "1")

    promoted = run(
        "promote_job",
        run_config={
            "ops": {"promote_named_version": {"config": {"version": "2", "reason": "test"}}}
        },
    )
    assert promoted.success
    assert str(alias_version(client, registry.model_name, CHAMPION).version) == "2"
    if champion == "1":  # a rollback needs a previous champion recorded by a promotion
        rolled = run("rollback_job")
        assert rolled.success
        assert str(alias_version(client, registry.model_name, CHAMPION).version) == "1"


def test_a_family_worse_than_seasonal_naive_is_left_out_and_the_ensemble_still_registers(
    graph, monkeypatch
):
    from dataclasses import replace

    from testkit.toy import Constant

    from ml.models import families

    planted = replace(families.BY_KEY["lstm"], factory=lambda **_: [Constant("LSTM", 500.0)])
    monkeypatch.setitem(families.BY_KEY, "lstm", planted)
    run, registry, _ = graph
    result = _training(run)
    failed = {c.check_name for c in result.get_asset_check_evaluations() if not c.passed}
    assert failed <= {"family_trained", "promotion_gate", "outliers"}
    lstm_check = next(
        c
        for c in result.get_asset_check_evaluations()
        if c.check_name == "family_trained" and c.asset_key.to_user_string() == "lstm_model"
    )
    assert not lstm_check.passed
    evaluation = result.output_for_node("ensemble_evaluation")
    assert "LSTM" not in evaluation.members and "lstm" not in evaluation.member_runs
    assert "LSTM" in set(evaluation.leaderboard["model"])  # still on the leaderboard
    assert evaluation.ensemble.weights.members == list(evaluation.members)
    candidate = result.output_for_node("demand_forecaster")
    version = registry.client().get_model_version(registry.model_name, candidate["version"])
    assert version.tags["promotion.decision"] in ("promote", "reject")


def _training(run):
    return run("training_job")


def _only_the_gate_warned(result) -> bool:
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    return all(c.check_name in ("promotion_gate", "outliers", "family_trained") for c in failed)


def _assert_version_lists_what_its_members_read(registry, version) -> None:
    """The version's ``model_features`` and ``feature_set_version`` tags are its members'."""
    import mlflow

    from feature_store import FEATURE_SET_VERSION
    from ml.registry.versions import features_from_tags

    mlflow.set_tracking_uri(registry.tracking_uri)  # restored by the global_uris fixture
    mlflow.set_registry_uri(registry.tracking_uri)
    uri = f"models:/{registry.model_name}/{version.version}"
    members = mlflow.pyfunc.load_model(uri).unwrap_python_model().forecaster_.members
    used = [name for m in members for name in getattr(m, "feature_names_", ())]
    assert used, "no member read the feature store"
    assert features_from_tags(version.tags) == list(dict.fromkeys(used))
    assert version.tags["feature_set_version"] == FEATURE_SET_VERSION
