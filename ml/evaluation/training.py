"""Train one forecaster family: backtest it, score it, and fit it on all the history.

Plain Python: the Dagster model assets call :func:`train_family` and log the result to MLflow
with :func:`log_training`; what a family is comes from ``ml.models.families``.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cloudpickle
import mlflow
import pandas as pd

from ml.data.quality import short_series
from ml.evaluation.backtest import ModelSpec, clone, cross_validation
from ml.evaluation.metrics import Evaluation, evaluate_forecasts
from ml.evaluation.plots import forecast_vs_actual
from ml.models.base import Forecaster
from ml.models.families import family as family_spec
from ml.models.seasonal_naive import SeasonalNaive
from ml.registry.tracking import log_fold_metrics, log_frame
from ml.schema import CUTOFF, DS, UNIQUE_ID, Y

log = logging.getLogger(__name__)

KEYS = [UNIQUE_ID, DS, CUTOFF, Y]
NAIVE = SeasonalNaive().alias
MODELS_ARTIFACT = "model/models.pkl"


def load_logged_models(client, run_id: str) -> list[Forecaster]:
    """The fitted models a family's training run logged."""
    path = client.download_artifacts(run_id, MODELS_ARTIFACT)
    return cloudpickle.loads(Path(path).read_bytes())


@dataclass(frozen=True)
class BacktestSpec:
    """Rolling-origin backtest shared by every family (the same windows for all)."""

    h: int = 28
    n_windows: int = 3
    step_size: int = 28
    refit: bool = True
    levels: tuple[int, ...] = (80, 95)
    min_history_days: int = 30


@dataclass
class TrainingResult:
    family: str
    cv: pd.DataFrame
    evaluation: Evaluation
    models: list[Forecaster]
    excluded_series: list[str]
    failed_series: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    # model, rmsse, seasonal_naive_rmsse on the same backtest rows (ensemble families only)
    versus_naive: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def aliases(self) -> list[str]:
        return [m.alias for m in self.models]

    @property
    def worse_than_naive(self) -> list[str]:
        """Models whose backtest RMSSE is worse than seasonal naive's (or that have none)."""
        table = self.versus_naive
        if table.empty:
            return []
        beaten = table["rmsse"] <= table["seasonal_naive_rmsse"]  # NaN: no evidence, worse
        return table.loc[~beaten, "model"].tolist()

    def verdict(self) -> str:
        """One line a person reads in the family's check: does it beat seasonal naive?"""
        if self.versus_naive.empty:
            return "not compared with seasonal naive (not an ensemble family)"
        worse = set(self.worse_than_naive)
        return "; ".join(
            f"{row.model}: RMSSE {row.rmsse:.4f} "
            f"{'worse than' if row.model in worse else 'beats'} seasonal naive "
            f"{row.seasonal_naive_rmsse:.4f} on the same backtest rows"
            for row in self.versus_naive.itertuples()
        )


@dataclass
class FamilyBacktest:
    """What a family's asset hands on: its backtest forecasts (empty when it failed) and the
    MLflow run holding its fitted models (None when it failed), so the registered ensemble is
    built from exactly the runs its weights were learned from."""

    family: str
    cv: pd.DataFrame
    run_id: str | None = None

    # its models whose backtest is worse than seasonal naive: left out of the ensemble (a class
    # default, so backtests pickled before this field existed still load)
    worse_than_naive: tuple[str, ...] = ()

    @property
    def trained(self) -> bool:
        return self.run_id is not None and not self.cv.empty


def train_family(
    family: str,
    history: pd.DataFrame,
    spec: BacktestSpec = BacktestSpec(),
    n_workers: int | None = None,
    scheduler_address: str | None = None,
    params: dict | None = None,
    features: pd.DataFrame | None = None,
) -> TrainingResult:
    """Backtest every model of ``family`` on the same windows, then refit on all the history.

    ``features`` is the offline feature table of ``history``: models that read the feature
    store (the global ones) take their training rows from it in every window and the final fit.
    """
    start = time.perf_counter()
    excluded = short_series(history, spec.min_history_days)
    eligible = history[~history[UNIQUE_ID].isin(excluded)]
    if eligible.empty:
        raise ValueError(f"no series has {spec.min_history_days}+ days of history to train on")
    models = family_spec(family).models(params, n_workers, scheduler_address)
    frames = [
        cross_validation(
            _reading(model, features),
            eligible,
            spec.h,
            spec.n_windows,
            spec.step_size,
            spec.refit,
            level=list(spec.levels),
        )
        for model in models
    ]
    cv = _merge(frames)
    evaluation = evaluate_forecasts(cv, eligible, levels=spec.levels)
    fitted = [_with_table(model, features).fit(eligible) for model in models]
    failed = {uid: reason for m in fitted for uid, reason in getattr(m, "failed_", {}).items()}
    aliases = [model.alias for model in models]
    versus = versus_naive(cv, eligible, aliases, spec) if family_spec(family).in_ensemble else None
    return TrainingResult(
        family,
        cv,
        evaluation,
        fitted,
        excluded,
        failed,
        time.perf_counter() - start,
        pd.DataFrame() if versus is None else versus,
    )


def _with_table(model: Forecaster, features: pd.DataFrame | None) -> Forecaster:
    """``model`` reading ``features`` when it trains on the feature store (others ignore it)."""
    if features is not None and hasattr(model, "use_feature_table"):
        model.use_feature_table(features)
    return model


def _reading(model: Forecaster, features: pd.DataFrame | None) -> ModelSpec:
    """What the backtest fits in each window: fresh copies of ``model`` reading ``features``."""
    if features is None or not hasattr(model, "use_feature_table"):
        return model
    return lambda: _with_table(clone(model), features)


def versus_naive(
    cv: pd.DataFrame, history: pd.DataFrame, aliases: Sequence[str], spec: BacktestSpec
) -> pd.DataFrame:
    """Each model's mean RMSSE beside seasonal naive's, on the rows where both forecast.

    The baseline every family must beat: a family that loses to it on its own backtest is
    left out of the ensemble (``ml.ensemble.evaluation``) and fails its check.
    """
    naive = cross_validation(SeasonalNaive(), history, spec.h, spec.n_windows, spec.step_size)
    frame = cv.merge(naive.drop(columns=[Y]), on=[UNIQUE_ID, DS, CUTOFF], how="left")
    rows = []
    for alias in aliases:
        rmsse = {alias: float("nan"), NAIVE: float("nan")}
        if frame[[alias, NAIVE]].notna().all(axis=1).any():
            rmsse = evaluate_forecasts(frame, history, [alias, NAIVE]).summary()["rmsse"]
        rows.append({"model": alias, "rmsse": rmsse[alias], "seasonal_naive_rmsse": rmsse[NAIVE]})
    return pd.DataFrame(rows, columns=["model", "rmsse", "seasonal_naive_rmsse"])


def _merge(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    merged = frames[0]
    for frame in frames[1:]:
        merged = merged.merge(frame.drop(columns=[Y]), on=[UNIQUE_ID, DS, CUTOFF], how="outer")
    return merged


def log_training(
    result: TrainingResult, spec: BacktestSpec, history: pd.DataFrame, plot_series: int = 4
) -> None:
    """Log params, per-fold and overall metrics, tables, a plot and the fitted models."""
    mlflow.log_params({f"backtest.{k}": v for k, v in vars(spec).items()})
    for model in result.models:
        mlflow.log_params(
            {f"{model.alias}.{k}": str(v)[:250] for k, v in model.get_params().items()}
        )
    mlflow.log_params(
        {
            "series": history[UNIQUE_ID].nunique(),
            "excluded_short_series": len(result.excluded_series),
            "first_day": str(history[DS].min().date()),
            "last_day": str(history[DS].max().date()),
        }
    )
    for alias in result.aliases:
        per_fold = _per_fold(result.evaluation, alias)
        log_fold_metrics(per_fold, prefix=f"{alias}.fold.")
        overall = result.evaluation.summary().loc[alias]
        mlflow.log_metrics({f"{alias}.{k}": float(v) for k, v in overall.items() if pd.notna(v)})
    mlflow.log_metrics(
        {"failed_series": len(result.failed_series), "train_seconds": result.seconds}
    )
    for row in result.versus_naive.dropna().itertuples():
        mlflow.log_metric(f"{row.model}.seasonal_naive_rmsse", float(row.seasonal_naive_rmsse))
    log_frame(result.cv, "backtest_forecasts")
    log_frame(result.evaluation.per_series, "metrics_per_series")
    log_frame(result.evaluation.per_department, "metrics_per_department")
    log_frame(result.evaluation.overall, "metrics_overall")
    mlflow.log_figure(
        forecast_vs_actual(result.cv, result.aliases, history, plot_series),
        "forecast_vs_actual.png",
    )
    with tempfile.TemporaryDirectory() as tmp:
        # cloudpickle: some models build their network classes lazily (torch is imported
        # only when the LSTM is used), which plain pickle cannot reference by name.
        path = Path(tmp) / MODELS_ARTIFACT.split("/")[-1]
        path.write_bytes(cloudpickle.dumps(result.models))
        mlflow.log_artifact(str(path), artifact_path="model")


def _per_fold(evaluation: Evaluation, alias: str) -> pd.DataFrame:
    table = evaluation.per_cutoff.pivot(index=CUTOFF, columns="metric", values=alias)
    return table.sort_index()
