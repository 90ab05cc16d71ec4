"""Model families: one asset each (from ``ml.models.families``), same backtest windows, one
MLflow run per materialisation."""

import time

import dagster as dg
import pandas as pd

from feature_store import FEATURE_SET_VERSION, find_training_leakage
from ml.evaluation.training import FamilyBacktest, TrainingResult, log_training, train_family
from ml.models.families import FAMILIES, FamilySpec
from ml.registry.tracking import run_url, tracked_run
from orchestration.resources import (
    BacktestResource,
    FeatureStoreResource,
    MLflowResource,
    ParallelResource,
)

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
        deps=["features"] if spec.reads_features else [],
    )
    def _asset(
        context: dg.AssetExecutionContext,
        sales_history: pd.DataFrame,
        backtest: BacktestResource,
        parallel: ParallelResource,
        mlflow: MLflowResource,
        feature_store: FeatureStoreResource,
    ) -> dg.Output:
        windows, tracking = backtest.spec(), mlflow.config()
        params, features = backtest.params_for(family), None
        if spec.reads_features:  # the checked offline table (its blocking checks passed)
            features = feature_store.offline().read()
            params = {"holiday_country": feature_store.holiday_country, **params}
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
                    params,
                    features,
                )
            except Exception as error:  # one family failing must not stop the others
                context.log.exception("%s failed: the ensemble will drop it", family)
                failed = FamilyBacktest(family, pd.DataFrame())
                return dg.Output(failed, metadata=_failed_metadata(error, run.info.run_id))
            log_training(result, windows, sales_history)
            audit = _leakage_audit(result, sales_history, feature_store.holiday_country)
        context.log.info("%s trained in %.1fs", family, time.perf_counter() - start)
        if result.worse_than_naive:
            context.log.warning("%s: %s", family, result.verdict())
        worse = tuple(result.worse_than_naive)
        output = FamilyBacktest(family, result.cv, run.info.run_id, worse)
        metadata = _metadata(result, run.info.run_id, tracking) | audit
        return dg.Output(output, metadata=metadata)

    return _asset


def _leakage_audit(result: TrainingResult, history: pd.DataFrame, country: str) -> dict:
    """Rebuild the sample of training rows each fitted model kept (the exact rows it was
    handed) with every sale after their cutoff removed; any difference is a leak."""
    samples = [m.training_sample_ for m in result.models if hasattr(m, "training_sample_")]
    if not samples:
        return {}
    rows = pd.concat(samples, ignore_index=True)
    diffs = find_training_leakage(history, rows, country)
    used = {m.alias: list(m.feature_names_) for m in result.models if hasattr(m, "feature_names_")}
    return {
        "feature_set_version": FEATURE_SET_VERSION,
        "model_features": dg.MetadataValue.json(used),
        "leakage_rows_audited": len(rows),
        "leakage_differing_values": len(diffs),
        "leakage_first_differences": dg.MetadataValue.md(
            diffs.head(20).to_markdown(index=False) if len(diffs) else "none"
        ),
    }


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


def _leakage_check(asset: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name="no_future_leakage", blocking=True)
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        """A sample of the rows the model trained on, rebuilt from sales up to each row's
        cutoff only, equals what the model received (a blocking gate before the ensemble)."""
        event = context.instance.get_latest_materialization_event(asset.key)
        metadata = event.asset_materialization.metadata if event else {}
        values = {key: value.value for key, value in metadata.items()}
        audited = values.get("leakage_rows_audited", 0)
        differing = values.get("leakage_differing_values", 0)
        return dg.AssetCheckResult(
            passed=values.get("status") == "failed" or (audited > 0 and differing == 0),
            metadata={
                "rows_audited": audited,
                "differing_values": differing,
                "first_differences": values.get("leakage_first_differences", "none"),
            },
        )

    return _check


MODEL_ASSETS = [_model_asset(spec) for spec in FAMILIES]
MODEL_CHECKS = [_trained_check(asset) for asset in MODEL_ASSETS] + [
    _leakage_check(asset)
    for asset, spec in zip(MODEL_ASSETS, FAMILIES, strict=True)
    if spec.audits_training_rows
]
