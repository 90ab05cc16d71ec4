"""Where the embedded default profile keeps its stores: everything under one data folder.

``orchestration.settings`` (the platform) and ``serving.settings`` (the HTTP service) both take
their defaults from here, so the service reads the registry and the stores the training graph
writes without either repeating the other's paths. Each can be overridden by its own setting.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path("data")
MODEL_NAME = "demand_forecaster"


def mlflow_dir(data_dir: Path = DATA_DIR) -> Path:
    """The local MLflow store: ``mlflow.db`` (tracking and registry) and ``artifacts/``."""
    return (Path(data_dir) / "mlflow").resolve()


def tracking_uri(data_dir: Path = DATA_DIR) -> str:
    return f"sqlite:///{mlflow_dir(data_dir) / 'mlflow.db'}"


def pricing_url(data_dir: Path = DATA_DIR) -> str:
    return f"sqlite:///{(Path(data_dir) / 'pricing.db').resolve()}"


def forecasts_url(data_dir: Path = DATA_DIR) -> str:
    return f"sqlite:///{(Path(data_dir) / 'forecasts.db').resolve()}"


def online_store_url(data_dir: Path = DATA_DIR) -> str:
    return f"sqlite:///{(Path(data_dir) / 'online_features.db').resolve()}"
