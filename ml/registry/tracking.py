"""MLflow tracking helpers: one run per model materialisation (no Dagster here).

The tracking store defaults to a local SQLite file with artifacts beside it, so the MLflow UI
(`make ui`) and the registry work with no server; a production profile points the URI at a
tracking server backed by PostgreSQL and S3.
"""

from __future__ import annotations

import fcntl
import logging
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackingConfig:
    """Where runs go: a tracking URI, an experiment, and where new experiments keep artifacts."""

    tracking_uri: str
    experiment: str = "retailiq"
    artifact_root: str | None = None

    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri)


def ensure_experiment(config: TrackingConfig) -> str:
    """The experiment id, creating the store and experiment (with its artifact location) if
    needed. Model families start in parallel processes: the first touch of a new SQLite store
    runs MLflow's schema migrations, which must not run twice at once, so it is serialised."""
    with _store_lock(config.tracking_uri):
        client = config.client()
        found = client.get_experiment_by_name(config.experiment)
        if found is not None:
            return found.experiment_id
        location = Path(config.artifact_root).resolve().as_uri() if config.artifact_root else None
        return client.create_experiment(config.experiment, artifact_location=location)


@contextmanager
def _store_lock(tracking_uri: str) -> Iterator[None]:
    """An exclusive file lock beside a SQLite tracking store (no-op for other stores)."""
    if not tracking_uri.startswith("sqlite:///"):
        yield
        return
    lock_path = Path(tracking_uri.removeprefix("sqlite:///") + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def tracked_run(
    config: TrackingConfig, run_name: str, tags: Mapping[str, str] | None = None
) -> Iterator[mlflow.ActiveRun]:
    """An active MLflow run in the configured store; ends FAILED if the body raises."""
    mlflow.set_tracking_uri(config.tracking_uri)
    experiment_id = ensure_experiment(config)
    tags = dict(tags or {})
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=tags) as run:
        yield run


def log_frame(frame: pd.DataFrame, name: str) -> None:
    """Log a frame as a Parquet artifact (and a CSV when it is small enough to eyeball)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        mlflow.log_artifact(str(path))
        if len(frame) <= 5_000:
            csv = Path(tmp) / f"{name}.csv"
            frame.to_csv(csv, index=False)
            mlflow.log_artifact(str(csv))


def log_fold_metrics(per_fold: pd.DataFrame, prefix: str = "") -> None:
    """Log one metric per column, one step per fold (MLflow plots them against the step)."""
    for step, (_, row) in enumerate(per_fold.iterrows()):
        metrics = {f"{prefix}{k}": float(v) for k, v in row.items() if pd.notna(v)}
        mlflow.log_metrics(metrics, step=step)


def run_url(config: TrackingConfig, run_id: str, ui_base: str = "http://127.0.0.1:5000") -> str:
    """A link to the run in the MLflow UI (the asset metadata shows it)."""
    run = config.client().get_run(run_id)
    return f"{ui_base}/#/experiments/{run.info.experiment_id}/runs/{run_id}"
