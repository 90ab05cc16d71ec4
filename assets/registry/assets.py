"""The registered demand forecaster: a new version per training run, promoted by the gate."""

import dagster as dg
import mlflow as mlflow_lib
import pandas as pd

from feature_store import FEATURE_SET_VERSION
from ml.ensemble.evaluation import BASELINE, EnsembleEvaluation, model_metrics
from ml.evaluation.training import load_logged_models
from ml.models.families import ENSEMBLE_FAMILIES
from ml.monitoring.alerts import MODEL_PROMOTED
from ml.registry.gate import Decision, decide_promotion
from ml.registry.pyfunc import log_demand_forecaster
from ml.registry.tracking import tracked_run
from ml.registry.versions import (
    CHAMPION,
    alias_version,
    apply_gate,
    features_tag,
    members_feature_set,
    metrics_from_tags,
    missing_tags,
    register_version,
    version_tags,
)
from orchestration.resources import AlertsResource, MLflowResource, RegistryResource

GROUP = "registry"
HISTORY_TAIL_DAYS = 364


@dg.asset(
    group_name=GROUP,
    io_manager_key="object_io_manager",
    kinds={"mlflow"},
    deps=[dg.AssetKey(spec.asset) for spec in ENSEMBLE_FAMILIES],
)
def demand_forecaster(
    context: dg.AssetExecutionContext,
    ensemble_evaluation: EnsembleEvaluation,
    sales_history: pd.DataFrame,
    mlflow: MLflowResource,
    registry: RegistryResource,
) -> dg.Output:
    """A registered version of the ensemble pyfunc, tagged and aliased `challenger`."""
    members = _fitted_members(context, ensemble_evaluation, mlflow)
    metrics = ensemble_evaluation.metrics
    tail = sales_history[
        sales_history["ds"] > sales_history["ds"].max() - pd.Timedelta(days=HISTORY_TAIL_DAYS)
    ]
    with tracked_run(mlflow.config(), "demand_forecaster", {"dagster/run_id": context.run_id}):
        info = log_demand_forecaster(members, ensemble_evaluation.ensemble, tail)
        run_id = mlflow_lib.active_run().info.run_id
    extra = {
        "scheme": ensemble_evaluation.scheme,
        "dagster_run_id": context.run_id,
        **features_tag(members),
    }
    feature_set = members_feature_set(members, FEATURE_SET_VERSION)
    tags = version_tags(sales_history, feature_set, metrics, extra=extra)
    version = register_version(
        registry.client(),
        info.model_uri,
        tags,
        registry.model_name,
        run_id=run_id,
        model_id=getattr(info, "model_id", None),
    )
    if missing := missing_tags(version.tags):  # a version without lineage must not be promoted
        raise dg.Failure(f"version {version.version} lacks required tags {missing}")
    board = ensemble_evaluation.leaderboard
    best = ensemble_evaluation.best_member
    candidate = {
        "version": str(version.version),
        "metrics": metrics,
        "best_member": model_metrics(board, best) if best else None,
        "baseline": model_metrics(board, BASELINE) if BASELINE in set(board["model"]) else None,
        "champion": model_metrics(board, "champion") if "champion" in set(board["model"]) else None,
    }
    return dg.Output(
        candidate,
        metadata={
            "model_name": registry.model_name,
            "version": str(version.version),
            "alias": "challenger",
            "mlflow_run_id": run_id,
            "tags": dg.MetadataValue.json(dict(version.tags)),
        },
    )


def _fitted_members(context, evaluation: EnsembleEvaluation, tracking: MLflowResource) -> list:
    """The families' fitted models, from the very MLflow runs the ensemble was evaluated on."""
    client = tracking.config().client()
    members = []
    for spec in ENSEMBLE_FAMILIES:
        run_id = evaluation.member_runs.get(spec.key)
        if run_id is None:
            context.log.warning("%s has no trained model: left out of the ensemble", spec.key)
            continue
        members += load_logged_models(client, run_id)
    return members


@dg.asset_check(asset=demand_forecaster, blocking=True)
def promotion_gate(
    demand_forecaster: dict, registry: RegistryResource, alerts: AlertsResource
) -> dg.AssetCheckResult:
    """Promote the challenger to champion only if it beats the champion on the same window."""
    client = registry.client()
    decision = _decide(demand_forecaster, registry)
    version = apply_gate(client, registry.model_name, demand_forecaster["version"], decision)
    champion = alias_version(client, registry.model_name, CHAMPION)
    broken = _worse_than_baseline(demand_forecaster)
    if decision.promote:
        alerts.emit(
            MODEL_PROMOTED,
            f"{registry.model_name} version {version.version} promoted by the gate",
            {"version": str(version.version), "reasons": decision.reasons},
        )
    return dg.AssetCheckResult(
        passed=decision.promote,
        # Not beating the champion is a normal outcome (warn); losing to seasonal naive is not.
        severity=dg.AssetCheckSeverity.ERROR if broken else dg.AssetCheckSeverity.WARN,
        metadata={
            "decision": "promoted" if decision.promote else "kept the champion",
            "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in decision.reasons)),
            **{k: float(v) for k, v in decision.numbers.items()},
            "challenger_version": str(version.version),
            "champion_version": str(champion.version) if champion else "none",
        },
    )


def _decide(candidate: dict, registry: RegistryResource) -> Decision:
    champion = candidate["champion"]
    if champion is None:  # no champion scored on this window: fall back to its own tags
        current = alias_version(registry.client(), registry.model_name, CHAMPION)
        champion = metrics_from_tags(current.tags) if current else None
    return decide_promotion(
        candidate["metrics"],
        champion,
        candidate["baseline"],
        registry.margin,
        registry.max_bias_worsening,
        registry.max_coverage_worsening,
        best_member_metrics=candidate.get("best_member"),
    )


def _worse_than_baseline(candidate: dict) -> bool:
    baseline = candidate["baseline"]
    return bool(baseline) and candidate["metrics"].get("rmsse", float("inf")) >= baseline["rmsse"]
