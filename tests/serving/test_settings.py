"""Serving settings: the same default registry as the training graph, env overrides, keys."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from serving.settings import Role, ServingSettings

ENV = (
    "RETAILIQ_SERVING_TRACKING_URI",
    "RETAILIQ_MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "RETAILIQ_DATA_DIR",
    "RETAILIQ_SERVING_DATA_DIR",
    "RETAILIQ_SERVING_API_KEYS",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_default_registry_is_the_training_graphs(tmp_path):
    from orchestration.settings import Settings  # the Dagster side, only to compare with

    ours = ServingSettings(_env_file=None, data_dir=tmp_path)
    assert ours.registry_uri == Settings(data_dir=tmp_path).tracking_uri
    assert ours.alias == "champion" and ours.model_name == "demand_forecaster"


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("RETAILIQ_MLFLOW_TRACKING_URI", "sqlite:///shared.db")
    assert ServingSettings(_env_file=None).registry_uri == "sqlite:///shared.db"
    monkeypatch.setenv("RETAILIQ_SERVING_TRACKING_URI", "http://mlflow:5000")
    monkeypatch.setenv("RETAILIQ_SERVING_API_KEYS", '{"k1": "admin", "k2": "reader"}')
    monkeypatch.setenv("RETAILIQ_SERVING_SHADOW_ALIAS", "challenger")
    settings = ServingSettings(_env_file=None)
    assert settings.registry_uri == "http://mlflow:5000"
    assert settings.api_keys == {"k1": Role.admin, "k2": Role.reader}
    assert settings.auth_enabled and settings.shadow_alias == "challenger"
    assert not ServingSettings(_env_file=None, auth_disabled=True).auth_enabled


def test_bad_settings_fail_at_start():
    with pytest.raises(ValidationError):
        ServingSettings(_env_file=None, api_keys={"k": "superuser"})
    with pytest.raises(ValidationError):
        ServingSettings(_env_file=None, precomputed_levels=[0, 80])


def test_serving_imports_neither_dagster_nor_assets_nor_orchestration():
    code = (
        "import sys, serving.app, serving.cli\n"
        "print([m for m in sys.modules if m.split('.')[0] in "
        "('dagster', 'assets', 'orchestration')])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert done.stdout.strip() == "[]"


def test_serving_and_the_platform_find_the_same_stores_by_default(tmp_path, monkeypatch):
    from orchestration.settings import Settings
    from serving.settings import ServingSettings

    for name in ("RETAILIQ_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI", "RETAILIQ_PRICING_DB_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RETAILIQ_DATA_DIR", str(tmp_path / "data"))
    platform, serving = Settings(), ServingSettings()
    assert serving.registry_uri == platform.tracking_uri
    assert serving.pricing_url == platform.pricing_url
    assert serving.model_name == platform.model_name
