"""Shared fixtures.

Tests marked ``m5`` read the real M5 subset next to the checkout (``../shared/data/m5`` or
``$RETAILIQ_M5_DIR``). They run whenever it exists; in CI (``CI`` set) a missing folder is a
failure, never a skip, so the real-data checks cannot silently disappear.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
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
