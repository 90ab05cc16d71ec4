"""Shared fixtures.

Tests marked ``m5`` read the real M5 subset next to the checkout (``../shared/data/m5`` or
``$RETAILIQ_M5_DIR``). They run whenever it exists; in CI (``CI`` set) a missing folder is a
failure, never a skip, so the real-data checks cannot silently disappear.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "support"))  # testkit: harnesses for tests and bench
DEFAULT_M5_DIR = REPO_ROOT.parent / "shared" / "data" / "m5"


def _m5_dir() -> Path:
    return Path(os.environ.get("RETAILIQ_M5_DIR", DEFAULT_M5_DIR))


@pytest.fixture(scope="session")
def m5_dir() -> Path:
    """The folder holding the real M5 parquet files."""
    path = _m5_dir()
    if not (path / "calendar.parquet").exists():
        if os.environ.get("CI"):
            pytest.fail(f"M5 data folder {path} is missing; CI must run the real-data tests")
        pytest.skip(f"M5 data folder {path} not present on this machine")
    return path


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings with every local path under a temporary folder (no environment leaks in)."""
    from orchestration.settings import Settings

    for name in ("RETAILIQ_LANDING_S3_BUCKET", "RETAILIQ_DATA_DIR", "DAGSTER_POSTGRES_URL"):
        monkeypatch.delenv(name, raising=False)
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def small_synthetic():
    """A small synthetic retailer: 2 stores x 8 items x 120 days."""
    from ml.synthetic import SyntheticConfig, generate

    return generate(SyntheticConfig(n_stores=2, n_items=8, n_days=120, seed=7))


def _price_response_history(
    stores: tuple[int, ...] = (1,), n_items: int = 5, n_days: int = 150, seed: int = 0
):
    """Poisson sales with a weekly pattern that fall steeply when the price rises; each item is
    its own department, so a price what-if moves no other item's price relative to its
    department's (``price_ratio_dept``)."""
    import numpy as np
    import pandas as pd

    from ml.schema import DEPT_ID, DS, SELL_PRICE, STORE_ID, UNIQUE_ID, Y

    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=n_days, freq="D")
    frames = []
    for store in stores:
        for i in range(n_items):
            level = rng.choice([0.8, 1.0, 1.25], size=n_days // 14 + 1).repeat(14)[:n_days]
            mean = (6.0 + 3 * i) * (1.0 + 0.4 * (dates.dayofweek >= 5)) * level**-2.0
            frames.append(
                pd.DataFrame(
                    {
                        UNIQUE_ID: f"S_{store}__ITEM_{i}",
                        DS: dates,
                        Y: rng.poisson(mean).astype(float),
                        SELL_PRICE: (2.0 + i) * level,
                        STORE_ID: f"S_{store}",
                        DEPT_ID: f"DEPT_{i}",
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="session")
def price_response_history():
    """Builder of small price-sensitive histories (pyfunc what-if, serving scenarios)."""
    return _price_response_history


def _small_ensemble_parts(history, h: int, n_windows: int = 2, n_estimators: int = 20):
    """Fitted members (two baselines and a small price-aware XGBoost) and interval calibration."""
    from testkit.registry import ensemble_parts

    xgboost = dict(n_estimators=n_estimators, max_depth=4)
    return ensemble_parts(history, h, xgboost, n_windows)


@pytest.fixture(scope="session")
def small_ensemble_parts():
    """Builder ``(history, h, n_windows, n_estimators) -> (fitted members, calibration)``."""
    return _small_ensemble_parts


@pytest.fixture
def global_uris(monkeypatch):
    """MLflow keeps its tracking and registry URIs in module globals and in the environment:
    restore both exactly (including "not set"), so later tests are not pointed here."""
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # restored on teardown
        if not os.environ[name]:
            monkeypatch.delenv(name)
    monkeypatch.setattr(tracking_utils, "_tracking_uri", tracking_utils._tracking_uri)
    monkeypatch.setattr(registry_utils, "_registry_uri", registry_utils._registry_uri)
