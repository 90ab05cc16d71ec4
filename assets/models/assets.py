"""Model families: one asset each (from ``ml.models.families``), same backtest windows, one
MLflow run per materialisation."""

import time

import dagster as dg
import pandas as pd

from ml.evaluation.training import FamilyBacktest, log_training, train_family
from ml.models.families import FAMILIES, FamilySpec
from ml.registry.tracking import run_url, tracked_run
from orchestration.resources import BacktestResource, MLflowResource, ParallelResource

GROUP = "models"
TRAINED, WORSE_THAN_NAIVE = "trained", "worse_than_seasonal_naive"


def _model_asset(spec: FamilySpec) -> dg.AssetsDefinition:
    family = spec.key

    @dg.asset(
        name=spec.asset,
        group_name=GROUP,
        description=spec.description,
        kinds={"mlflow", "pandas"},
        tags={"retailiq/family": family},
        io_manager_key="object_io_manager",
    )
    def _asset(
        context: dg.AssetExecutionContext,
        sales_history: pd.DataFrame,
        backtest: BacktestResource,
        parallel: ParallelResource,
        mlflow: MLflowResource,
    ) -> dg.Output:
        windows, tracking = backtest.spec(), mlflow.config()
        tags = {"dagster/run_id": context.run_id, "retailiq/family": family}
        with tracked_run(tracking, f"{family}_model", tags) as run:
            start = time.perf_counter()
            try:
                result = train_family(
                    family,
                    sales_history,
                    windows,
                    parallel.n_workers,
                    parallel.dask_scheduler_address,
                    backtest.params_for(family),
                )
            except Exception as error:  # one family failing must not stop the others
                context.log.exception("%s failed: the ensemble will drop it", family)
                failed = FamilyBacktest(family, pd.DataFrame())
                return dg.Output(failed, metadata=_failed_metadata(error, run.info.run_id))
            log_training(result, windows, sales_history)
        context.log.info("%s trained in %.1fs", family, time.perf_counter() - start)
        if result.worse_than_naive:
            context.log.warning("%s: %s", family, result.verdict())
        worse = tuple(result.worse_than_naive)
        output = FamilyBacktest(family, result.cv, run.info.run_id, worse)
        return dg.Output(output, metadata=_metadata(result, run.info.run_id, tracking))

    return _asset


def _failed_metadata(error: Exception, run_id: str) -> dict:
    return {
        "status": "failed",
        "error": f"{type(error).__name__}: {error}"[:2000],
        "mlflow_run_id": run_id,
    }


def _metadata(result, run_id: str, tracking) -> dict:
    summary = result.evaluation.summary()
    failed = sorted(result.failed_series)
    return {
        "status": WORSE_THAN_NAIVE if result.worse_than_naive else TRAINED,
        "versus_seasonal_naive": result.verdict(),
        **{
            f"{row.model}_seasonal_naive_rmsse": float(row.seasonal_naive_rmsse)
            for row in result.versus_naive.itertuples()
        },
        "mlflow_run_id": run_id,
        "mlflow_run": dg.MetadataValue.url(run_url(tracking, run_id)),
        "models": dg.MetadataValue.json(result.aliases),
        "metrics": dg.MetadataValue.md(summary.round(4).to_markdown()),
        **{f"{alias}_rmsse": float(summary.loc[alias, "rmsse"]) for alias in result.aliases},
        "series": int(result.cv["unique_id"].nunique()),
        "excluded_short_series": dg.MetadataValue.json(result.excluded_series[:200]),
        "failed_series_count": len(failed),
        "failed_series": dg.MetadataValue.json(
            {uid: result.failed_series[uid] for uid in failed[:200]}
        ),
        "train_seconds": round(result.seconds, 2),
    }


def _trained_check(asset: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name="family_trained", blocking=False)
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        """The family produced backtest forecasts that beat seasonal naive on the same rows (a
        family that failed or lost to it is left out of the ensemble)."""
        event = context.instance.get_latest_materialization_event(asset.key)
        metadata = event.asset_materialization.metadata if event else {}
        values = {key: value.value for key, value in metadata.items()}
        status = values.get("status", "missing")
        return dg.AssetCheckResult(
            passed=status == TRAINED,
            metadata={
                "status": status,
                "error": values.get("error", "none"),
                "versus_seasonal_naive": values.get("versus_seasonal_naive", "not compared"),
                **{k: v for k, v in values.items() if k.endswith("rmsse")},
            },
        )

    return _check


MODEL_ASSETS = [_model_asset(spec) for spec in FAMILIES]
MODEL_CHECKS = [_trained_check(asset) for asset in MODEL_ASSETS]
