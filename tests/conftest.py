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
