"""Monitoring: feature and target drift against the training window, and served accuracy."""

from dataclasses import replace

import dagster as dg
import mlflow as mlflow_lib
import pandas as pd
from pydantic import Field

from ml.monitoring.drift import DriftSummary, drift_windows, feature_drift, monitored_columns
from ml.monitoring.forecast_table import read_forecasts
from ml.monitoring.triggers import read_accuracy, score_accuracy, served_forecasts, write_accuracy
from ml.registry.tracking import log_frame, run_url, tracked_run
from ml.registry.versions import CHALLENGER, CHAMPION, alias_version, features_from_tags
from ml.schema import DS, Y
from orchestration.resources import (
    FeatureStoreResource,
    ForecastTableResource,
    MonitoringResource,
    RegistryResource,
)

GROUP = "monitoring"


@dg.asset(
    group_name=GROUP,
    deps=[dg.AssetKey("features")],
    kinds={"evidently", "mlflow"},
    check_specs=[
        dg.AssetCheckSpec("no_significant_drift", asset="feature_drift_report", blocking=False)
    ],
)
def feature_drift_report(
    context: dg.AssetExecutionContext,
    feature_store: FeatureStoreResource,
    registry: RegistryResource,
    monitoring: MonitoringResource,
) -> dg.MaterializeResult:
    """Evidently drift report: the latest days' features and target vs the training window."""
    watched, watched_from = _champion_inputs(registry)
    spec = replace(monitoring.drift_spec(), columns=monitored_columns(watched))
    table = feature_store.offline().read(columns=[Y])
    last_day = pd.Timestamp(table.loc[table[Y].notna(), DS].max())
    reference_end, version = _training_end(registry)
    windows = drift_windows(last_day, spec, reference_end)
    table = feature_store.offline().read(
        columns=list(spec.columns), start=windows.reference_start, end=windows.current_end
    )
    html = (
        f"{monitoring.reports_dir}/feature_drift_"
        f"{windows.current_end.date()}_{context.run_id[:8]}.html"
    )
    summary = feature_drift(table, windows, spec, html_path=html)
    run_id = _log_to_mlflow(context, monitoring, summary, version)
    numbers = _headline(summary)
    significant = (
        summary.significant_kl > spec.kl_threshold
        or summary.drifted_share > spec.drifted_share_limit
    )
    return dg.MaterializeResult(
        metadata={
            **numbers,
            **summary.windows.describe(),
            "reference_model_version": version or "none",
            "watched_columns": dg.MetadataValue.json(list(spec.columns)),
            "watched_columns_from": watched_from,
            "significant": significant,
            "report": dg.MetadataValue.path(str(summary.html_path)),
            "mlflow_run_id": run_id,
            "mlflow_run": dg.MetadataValue.url(run_url(monitoring.tracking(), run_id)),
            "columns": dg.MetadataValue.md(summary.columns.round(4).to_markdown(index=False)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="no_significant_drift",
                passed=not significant,
                severity=dg.AssetCheckSeverity.WARN,  # drift warns (and triggers retraining)
                metadata={
                    "kl_significant": numbers["kl_significant"],
                    "kl_threshold": spec.kl_threshold,
                    "drifted_share": numbers["drifted_share"],
                    "drifted_share_limit": spec.drifted_share_limit,
                    "drifted_columns": dg.MetadataValue.json(summary.drifted_columns),
                },
            )
        ],
    )


def _training_end(registry: RegistryResource) -> tuple[pd.Timestamp | None, str | None]:
    """The end of the newest registered version's training window (the drift reference)."""
    client = registry.client()
    for alias in (CHALLENGER, CHAMPION):
        version = alias_version(client, registry.model_name, alias)
        if version is not None and version.tags.get("training_window_end"):
            return pd.Timestamp(version.tags["training_window_end"]), str(version.version)
    return None, None


def _champion_inputs(registry: RegistryResource) -> tuple[list[str] | None, str]:
    """The feature-store inputs the champion's members read (its ``model_features`` tag; the
    challenger's before any champion), and where they came from."""
    client = registry.client()
    for alias in (CHAMPION, CHALLENGER):
        version = alias_version(client, registry.model_name, alias)
        features = features_from_tags(version.tags) if version is not None else None
        if features is not None:
            return features, f"{alias} version {version.version}"
    return None, "no registered version lists its inputs: every stored demand and price feature"


def _headline(summary: DriftSummary) -> dict:
    return {
        "kl_max": summary.max_kl,
        "kl_significant": summary.significant_kl,
        "kl_significant_column": summary.significant_kl_column,
        "kl_max_column": summary.max_kl_column,
        "kl_target": summary.target_kl,
        "kl_mean": float(summary.columns["kl_divergence"].mean()),
        "drifted_share": summary.drifted_share,
        "drifted_columns": len(summary.drifted_columns),
        "reference_rows": summary.n_reference,
        "current_rows": summary.n_current,
    }


def _log_to_mlflow(
    context: dg.AssetExecutionContext,
    monitoring: MonitoringResource,
    summary: DriftSummary,
    version: str | None,
) -> str:
    """One run in the monitoring experiment: headline metrics, per-column table, HTML."""
    tags = {"dagster/run_id": context.run_id, "reference_model_version": version or "none"}
    with tracked_run(monitoring.tracking(), "feature_drift_report", tags) as run:
        mlflow_lib.log_params(summary.windows.describe())
        mlflow_lib.log_metrics(
            {k: float(v) for k, v in _headline(summary).items() if isinstance(v, int | float)}
        )
        log_frame(summary.columns, "drift_by_column")
        mlflow_lib.log_artifact(str(summary.html_path))
        return run.info.run_id


class AccuracyConfig(dg.Config):
    rescore_days: int = Field(
        28, description="Re-score the last N days with actuals (late corrections replace rows)."
    )


@dg.asset(group_name=GROUP, deps=[dg.AssetKey("demand_forecasts")], kinds={"sql"})
def forecast_accuracy(
    context: dg.AssetExecutionContext,
    config: AccuracyConfig,
    sales_history: pd.DataFrame,
    forecast_table: ForecastTableResource,
    monitoring: MonitoringResource,
) -> dg.MaterializeResult:
    """Daily accuracy of the served forecasts (WAPE, 100 - WAPE, bias, coverage) by department."""
    try:
        forecasts = read_forecasts(forecast_table.url, latest_only=False)
    except Exception as error:  # no table yet: nothing was ever served
        context.log.warning("no served forecasts to score: %s", error)
        forecasts = pd.DataFrame()
    last_actual = pd.Timestamp(sales_history[DS].max())
    days = pd.date_range(last_actual - pd.Timedelta(days=config.rescore_days - 1), last_actual)
    rows = (
        score_accuracy(served_forecasts(forecasts), sales_history, days)
        if len(forecasts)
        else pd.DataFrame()
    )
    written = write_accuracy(rows, forecast_table.url) if len(rows) else 0
    history = read_accuracy(forecast_table.url)
    return dg.MaterializeResult(metadata=_accuracy_metadata(history, rows, written, monitoring))


def _accuracy_metadata(
    history: pd.DataFrame, rows: pd.DataFrame, written: int, monitoring: MonitoringResource
) -> dict:
    metadata = {"rows_written": written, "days_in_history": int(history["day"].nunique())}
    if history.empty:
        return metadata
    latest = history.iloc[-1]
    below = history["accuracy"] < monitoring.accuracy_threshold
    run_below = int(below[::-1].cumprod().sum())
    metadata.update(
        {
            "day": str(latest["day"].date()),
            "accuracy": float(latest["accuracy"]),
            "wape": float(latest["wape"]),
            "bias": float(latest["bias"]),
            "coverage": float(latest["coverage"]),
            "days_below_threshold_in_a_row": run_below,
            "accuracy_threshold": monitoring.accuracy_threshold,
            "recent": dg.MetadataValue.md(
                history.tail(14)[
                    ["day", "accuracy", "wape", "bias", "coverage", "n_series", "model_versions"]
                ]
                .round(2)
                .to_markdown(index=False)
            ),
        }
    )
    if len(rows):
        by_dept = rows[rows["scope"] != "overall"]
        by_dept = by_dept[by_dept["day"] == by_dept["day"].max()]
        metadata["by_department"] = dg.MetadataValue.md(
            by_dept[["scope", "accuracy", "wape", "bias", "coverage", "n_series"]]
            .round(2)
            .to_markdown(index=False)
        )
    return metadata
