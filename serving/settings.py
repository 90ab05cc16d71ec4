"""The serving side's one place that knows the environment (``RETAILIQ_SERVING_*``).

Every setting has a working local default: the registry is the same SQLite MLflow store the
training graph writes (``data/mlflow/mlflow.db``: both take it from ``ml.data.locations``),
the alias served is ``champion``, and with no API keys configured the API is open (a loud warning is
logged at start-up; set ``RETAILIQ_SERVING_API_KEYS`` in any shared deployment).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ml.data import locations


class Role(StrEnum):
    """What a key may do; each role includes the ones before it."""

    reader = "reader"  # forecasts, scenarios, model info, /invocations, pricing reads
    manager = "manager"  # accept or reject price recommendations
    admin = "admin"  # reload the model


ROLE_RANK = {Role.reader: 0, Role.manager: 1, Role.admin: 2}


class ServingSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RETAILIQ_SERVING_", env_file=".env", extra="ignore"
    )

    data_dir: Path = Field(
        locations.DATA_DIR,
        validation_alias=AliasChoices("RETAILIQ_SERVING_DATA_DIR", "RETAILIQ_DATA_DIR", "data_dir"),
        description="Project data folder; the default registry lives under it.",
    )
    tracking_uri: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "RETAILIQ_SERVING_TRACKING_URI",
            "RETAILIQ_MLFLOW_TRACKING_URI",
            "MLFLOW_TRACKING_URI",
            "tracking_uri",
        ),
        description="MLflow tracking/registry URI (default sqlite:///data/mlflow/mlflow.db).",
    )
    pricing_db_url: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "RETAILIQ_SERVING_PRICING_DB_URL", "RETAILIQ_PRICING_DB_URL", "pricing_db_url"
        ),
        description="SQLAlchemy URL of the pricing store (default sqlite:///data/pricing.db).",
    )
    model_name: str = Field(locations.MODEL_NAME, description="Registered model to serve.")
    alias: str = Field("champion", description="Registry alias served.")
    shadow_alias: str | None = Field(
        None,
        description="Also load this alias (e.g. challenger) and log its answers next to "
        "the served ones; never returned.",
    )
    poll_interval_s: float = Field(
        30.0, ge=0, description="Seconds between registry alias checks (0: never poll)."
    )

    host: str = Field("127.0.0.1", description="Address uvicorn binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port uvicorn binds.")

    api_keys: dict[str, Role] = Field(
        default_factory=dict, description='API keys and their roles, JSON: {"key": "admin"}.'
    )
    auth_disabled: bool = Field(
        False, description="Turn API keys off explicitly (local development only)."
    )
    public_invocations: bool = Field(
        False, description="Serve /invocations without a key, like `mlflow models serve`."
    )

    max_batch_series: int = Field(1000, ge=1, description="Series in one forecast request.")
    max_scenario_series: int = Field(100, ge=1, description="Series in one what-if request.")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest request body.")
    default_levels: list[int] = Field([80, 95], description="Interval levels when none asked.")
    precomputed_levels: list[int] = Field(
        [50, 80, 90, 95, 99],
        description="Levels answered from the table built at load; others go through the model.",
    )

    log_level: str = Field("INFO", description="Root log level.")
    access_log: bool = Field(True, description="One JSON log line per request.")

    @field_validator("default_levels", "precomputed_levels")
    @classmethod
    def _levels_in_range(cls, levels: list[int]) -> list[int]:
        if any(not 0 < lv < 100 for lv in levels):
            raise ValueError(f"levels must lie in (0, 100), got {levels}")
        return sorted(set(levels))

    @property
    def registry_uri(self) -> str:
        return self.tracking_uri or locations.tracking_uri(self.data_dir)

    @property
    def pricing_url(self) -> str:
        return self.pricing_db_url or locations.pricing_url(self.data_dir)

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys) and not self.auth_disabled
