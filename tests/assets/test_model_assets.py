import json

import dagster as dg
import pytest
from testkit.dagster_runs import asset_metadata
from testkit.toy import Constant

from assets.features.assets import features
from assets.ingestion.assets import lake_tables, sales_history
from assets.models.assets import MODEL_ASSETS
from ml.evaluation.training import load_logged_models
from ml.synthetic import write_landing_files
from orchestration.resources import BacktestResource, build_resources
from orchestration.settings import Settings

SMALL_XGBOOST = {"n_estimators": 60, "max_depth": 4}
MODEL_ASSET = {a.key.to_user_string().removesuffix("_model"): a for a in MODEL_ASSETS}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, small_synthetic):
    settings = Settings(data_dir=tmp_path_factory.mktemp("models") / "data")
    write_landing_files(small_synthetic, settings.landing_path)
    resources = build_resources(settings)
    resources["backtest"] = BacktestResource(
        h=7, n_windows=2, step_size=7, family_params=json.dumps({"xgboost": SMALL_XGBOOST})
    )
    result = dg.materialize(
        [lake_tables, sales_history, features, MODEL_ASSET["baseline"], MODEL_ASSET["xgboost"]],
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
    )
    return result, resources


def test_each_family_is_one_mlflow_run_with_metrics_artifacts_and_the_run_id(trained):
    result, resources = trained
    assert result.success
    client = resources["mlflow"].config().client()
    for asset_name, aliases in (
        ("baseline_model", ["SeasonalNaive", "MovingAverage"]),
        ("xgboost_model", ["XGBoost"]),
    ):
        metadata = asset_metadata(result, asset_name)
        run = client.get_run(metadata["mlflow_run_id"])
        assert run.info.status == "FINISHED"
        assert metadata["models"] == aliases
        for alias in aliases:
            assert f"{alias}.rmsse" in run.data.metrics
            history = client.get_metric_history(run.info.run_id, f"{alias}.fold.rmsse")
            assert [m.step for m in history] == [0, 1]  # one value per backtest window
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"backtest_forecasts.parquet", "forecast_vs_actual.png", "model"} <= artifacts
        assert run.data.params["backtest.h"] == "7"


def test_backtest_output_has_both_windows_for_every_series(trained):
    result, _ = trained
    cv = result.output_for_node("baseline_model").cv
    assert cv["cutoff"].nunique() == 2
    assert cv.groupby(["unique_id", "cutoff"]).size().eq(7).all()
    assert {"SeasonalNaive-lo-80", "MovingAverage-hi-95"} <= set(cv.columns)


def test_fitted_models_are_logged_and_reload(trained):
    result, resources = trained
    run_id = asset_metadata(result, "xgboost_model")["mlflow_run_id"]
    (model,) = load_logged_models(resources["mlflow"].config().client(), run_id)
    forecast = model.predict(7, level=[80])
    assert forecast["unique_id"].nunique() == 16


def lstm_with(factory, resources, monkeypatch):
    """``lstm_model`` and its check materialised with the family's models made by ``factory``."""
    from dataclasses import replace

    from assets.models.assets import MODEL_CHECKS
    from ml.models import families

    lstm_model = MODEL_ASSET["lstm"]
    planted = replace(families.BY_KEY["lstm"], factory=factory)
    monkeypatch.setitem(families.BY_KEY, "lstm", planted)
    check = next(c for c in MODEL_CHECKS if lstm_model.key in {k.asset_key for k in c.check_keys})
    return dg.materialize(
        [lake_tables, sales_history, lstm_model, check],
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        selection=[lstm_model.key],
    )


def test_a_family_that_fails_outputs_nothing_and_its_check_fails(trained, monkeypatch):
    def broken(**_):
        raise RuntimeError("simulated out-of-memory")

    result = lstm_with(broken, trained[1], monkeypatch)
    assert result.success  # the run goes on: the ensemble drops the family
    output = result.output_for_node("lstm_model")
    assert output.cv.empty and not output.trained
    assert "simulated out-of-memory" in asset_metadata(result, "lstm_model")["error"]
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed


def test_a_family_worse_than_seasonal_naive_fails_its_check_with_the_figures(trained, monkeypatch):
    result = lstm_with(lambda **_: [Constant("LSTM", 500.0)], trained[1], monkeypatch)
    assert result.success
    output = result.output_for_node("lstm_model")
    assert output.trained and output.worse_than_naive == ("LSTM",)
    metadata = asset_metadata(result, "lstm_model")
    assert metadata["status"] == "worse_than_seasonal_naive"
    assert metadata["LSTM_rmsse"] > metadata["LSTM_seasonal_naive_rmsse"] > 0
    assert metadata["versus_seasonal_naive"] == (
        f"LSTM: RMSSE {metadata['LSTM_rmsse']:.4f} worse than seasonal naive "
        f"{metadata['LSTM_seasonal_naive_rmsse']:.4f} on the same backtest rows"
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    figures = {k: v.value for k, v in evaluation.metadata.items()}
    assert figures["status"] == "worse_than_seasonal_naive"
    assert figures["LSTM_seasonal_naive_rmsse"] == metadata["LSTM_seasonal_naive_rmsse"]
    assert figures["versus_seasonal_naive"] == metadata["versus_seasonal_naive"]


def test_a_family_that_beats_seasonal_naive_passes_and_says_by_how_much(trained):
    result, _ = trained
    metadata = asset_metadata(result, "xgboost_model")
    assert metadata["status"] == "trained"
    assert metadata["XGBoost_rmsse"] <= metadata["XGBoost_seasonal_naive_rmsse"]
    assert "XGBoost: RMSSE" in metadata["versus_seasonal_naive"]
    assert " beats seasonal naive " in metadata["versus_seasonal_naive"]
    assert result.output_for_node("xgboost_model").worse_than_naive == ()
    baseline = asset_metadata(result, "baseline_model")
    assert baseline["versus_seasonal_naive"].startswith("not compared")


def xgboost_with_checks(resources):
    """``xgboost_model`` and its checks materialised on the feature table already written."""
    from assets.models.assets import MODEL_CHECKS

    model = MODEL_ASSET["xgboost"]
    checks = [c for c in MODEL_CHECKS if model.key in {k.asset_key for k in c.check_keys}]
    result = dg.materialize(
        [lake_tables, sales_history, features, model, *checks],
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        selection=[model.key],
        raise_on_error=False,
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    return result, evaluations


def test_the_global_model_trains_on_the_feature_store_and_its_rows_are_audited(trained):
    """The version's feature list is what the booster was fitted on; the sample of training
    rows the model kept rebuilds exactly from sales before each cutoff."""
    result, resources = trained
    metadata = asset_metadata(result, "xgboost_model")
    (model,) = load_logged_models(resources["mlflow"].config().client(), metadata["mlflow_run_id"])
    assert model.feature_names_ == list(model.model_.get_booster().feature_names)
    assert metadata["model_features"] == {"XGBoost": model.feature_names_}
    assert metadata["feature_set_version"] == model.feature_set_version_
    assert metadata["leakage_rows_audited"] == len(model.training_sample_) > 0
    assert metadata["leakage_differing_values"] == 0


def test_a_leak_planted_in_the_training_frame_fails_the_blocking_check(trained, monkeypatch):
    from ml.models import xgboost

    def leaky(features, cutoff, h):
        frame = build_training_set(features, cutoff, h)
        return frame.assign(lag_1=frame["y"].astype("float32"))  # "yesterday" is the target day

    build_training_set = xgboost.build_training_set
    monkeypatch.setattr(xgboost, "build_training_set", leaky)
    result, evaluations = xgboost_with_checks(trained[1])
    check = evaluations["no_future_leakage"]
    assert not check.passed
    assert check.metadata["differing_values"].value > 0
    assert "lag_1" in check.metadata["first_differences"].value
    assert evaluations[
        "family_trained"
    ].passed  # it trains (well, on the leak): only the audit knows


def test_the_leakage_check_passes_on_the_clean_training_frame(trained):
    _, evaluations = xgboost_with_checks(trained[1])
    assert evaluations["no_future_leakage"].passed
    assert evaluations["no_future_leakage"].metadata["rows_audited"].value > 0
