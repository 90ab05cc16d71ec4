"""Ensemble evaluation: weights from backtest error and the leaderboard on the same window."""

import dagster as dg
import pandas as pd

from ml.ensemble.evaluation import (
    EnsembleEvaluation,
    evaluate_ensemble,
    leaderboard_figure,
    merge_backtests,
)
from ml.evaluation.training import FamilyBacktest
from ml.models.families import ENSEMBLE_ALIASES, ENSEMBLE_FAMILIES, FAMILIES
from ml.registry.champion import champion_window_metrics
from ml.registry.tracking import log_frame, run_url, tracked_run
from ml.schema import CUTOFF
from orchestration.resources import BacktestResource, MLflowResource, RegistryResource

GROUP = "evaluation"


@dg.asset(
    group_name=GROUP,
    io_manager_key="object_io_manager",
    kinds={"mlflow"},
    ins={spec.asset: dg.AssetIn() for spec in FAMILIES},
)
def ensemble_evaluation(
    context: dg.AssetExecutionContext,
    sales_history: pd.DataFrame,
    backtest: BacktestResource,
    mlflow: MLflowResource,
    registry: RegistryResource,
    **families: FamilyBacktest,
) -> dg.Output:
    """Ensemble weights learned from backtest error, scored with every family and the champion."""
    cv = merge_backtests([family.cv for family in families.values()])
    left_out = {m for family in families.values() for m in family.worse_than_naive}
    forecasting = [m for m in ENSEMBLE_ALIASES if m in cv.columns and cv[m].notna().any()]
    members = [m for m in forecasting if m not in left_out]
    if not members:
        raise dg.Failure(
            "no family produced backtest forecasts that beat seasonal naive: nothing to "
            f"ensemble (worse than seasonal naive: {sorted(left_out) or 'none'}; see each "
            "family's family_trained check)"
        )
    levels = backtest.spec().levels
    window = cv[cv[CUTOFF] == cv[CUTOFF].max()]
    champion = champion_window_metrics(
        registry.client(), window, sales_history, levels, registry.model_name
    )
    evaluation = evaluate_ensemble(
        cv,
        sales_history,
        members,
        levels,
        champion=champion[1] if champion else None,
        also_score=[m for m in forecasting if m in left_out],
    )
    if evaluation.fallback:
        context.log.warning(evaluation.fallback_reason)
    evaluation.member_runs = _member_runs(families)
    run_id = _log_evaluation(mlflow, evaluation, context.run_id)
    return dg.Output(evaluation, metadata=_metadata(evaluation, members, champion, run_id, mlflow))


def _member_runs(families: dict[str, FamilyBacktest]) -> dict[str, str]:
    """Family -> the MLflow run holding the fitted models these weights were learned from
    (families that failed or lost to seasonal naive are no members)."""
    runs = {}
    for spec in ENSEMBLE_FAMILIES:
        backtest = families.get(spec.asset)
        if backtest is not None and backtest.trained and not backtest.worse_than_naive:
            runs[spec.key] = backtest.run_id
    return runs


def _log_evaluation(mlflow: MLflowResource, evaluation: EnsembleEvaluation, dagster_run: str):
    import mlflow as mlf

    with tracked_run(
        mlflow.config(), "ensemble_evaluation", {"dagster/run_id": dagster_run}
    ) as run:
        mlf.log_param("scheme", evaluation.scheme)
        mlf.log_param("fallback", evaluation.fallback or "none")
        mlf.log_params(
            {
                f"weight.{k}": round(float(v), 4)
                for k, v in evaluation.ensemble.weights.mean().items()
            }
        )
        for _, row in evaluation.leaderboard.iterrows():
            mlf.log_metrics(
                {
                    f"{row['model']}.{k}": float(v)
                    for k, v in row.items()
                    if k != "model" and pd.notna(v)
                }
            )
        log_frame(evaluation.leaderboard, "leaderboard")
        log_frame(evaluation.last_window, "last_window_forecasts")
        log_frame(evaluation.comparison.table, "scheme_comparison")
        mlf.log_figure(leaderboard_figure(evaluation.leaderboard), "leaderboard.png")
        return run.info.run_id


def _metadata(evaluation: EnsembleEvaluation, members, champion, run_id, mlflow) -> dict:
    board = evaluation.leaderboard
    metrics = evaluation.metrics
    return {
        "leaderboard": dg.MetadataValue.md(board.round(4).to_markdown(index=False)),
        "scheme": evaluation.scheme,
        "members": dg.MetadataValue.json(members),
        "fallback": evaluation.fallback or "none",
        "fallback_reason": evaluation.fallback_reason or "the ensemble beat its best member",
        "member_runs": dg.MetadataValue.json(evaluation.member_runs),
        "ensemble_rmsse": metrics.get("rmsse", float("nan")),
        "ensemble_coverage_80": metrics.get("coverage_80", float("nan")),
        "ensemble_coverage_95": metrics.get("coverage_95", float("nan")),
        "champion_version": champion[0] if champion else "none",
        "mlflow_run_id": run_id,
        "mlflow_run": dg.MetadataValue.url(run_url(mlflow.config(), run_id)),
    }
