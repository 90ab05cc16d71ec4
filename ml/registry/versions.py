"""Model registry helpers: versions, tags, the promotion gate, promotion and rollback.

MLflow 3 registry with aliases only (``challenger``, ``champion``), never the deprecated
stages. Every function takes an ``MlflowClient`` so the caller decides which registry it talks
to. Each version carries its training window, data checksum, feature-set version, code
version (git commit) and backtest metrics as tags; a promotion records the version it replaced
(``previous_champion``) and the gate's decision with its numbers, so a rollback knows where to
go and the MLflow UI shows why a version is or is not champion.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ml.data.locations import MODEL_NAME
from ml.registry.gate import Decision
from ml.schema import DS, UNIQUE_ID, Y

logger = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous_champion"
METRIC_PREFIX = "metric."
MODEL_FEATURES_TAG = "model_features"  # JSON list: the feature-store columns the members read
REQUIRED_TAGS = (
    "training_window_start",
    "training_window_end",
    "data_checksum",
    "feature_set_version",
    "code_version",
)


# -- version tags -------------------------------------------------------------------------
def code_version(path: str | Path | None = None) -> str:
    """The git commit of the code (``git rev-parse HEAD``), or ``unknown`` outside a repo."""
    folder = Path(path) if path else Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def data_checksum(history: pd.DataFrame) -> str:
    """SHA-256 of the training data's keys and target (row order does not matter)."""
    frame = history[[UNIQUE_ID, DS, Y]].sort_values([UNIQUE_ID, DS]).reset_index(drop=True)
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def version_tags(
    history: pd.DataFrame,
    feature_set_version: str,
    metrics: Mapping[str, float],
    code: str | None = None,
    extra: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """The tags every registered version carries (metrics as ``metric.<name>``)."""
    tags = {
        "training_window_start": str(pd.Timestamp(history[DS].min()).date()),
        "training_window_end": str(pd.Timestamp(history[DS].max()).date()),
        "data_checksum": data_checksum(history),
        "feature_set_version": str(feature_set_version),
        "code_version": code or code_version(),
        "series": str(history[UNIQUE_ID].nunique()),
    }
    tags.update(
        {f"{METRIC_PREFIX}{k}": f"{float(v):.6g}" for k, v in metrics.items() if pd.notna(v)}
    )
    tags.update({k: str(v) for k, v in (extra or {}).items()})
    return tags


def features_tag(members: Sequence[object]) -> dict[str, str]:
    """The ``model_features`` tag: every feature-store input of the members, in first-use order
    (empty when no member reads the feature store)."""
    names: dict[str, None] = {}
    for member in members:
        names.update(dict.fromkeys(getattr(member, "feature_names_", ())))
    return {MODEL_FEATURES_TAG: json.dumps(list(names))} if names else {}


def members_feature_set(members: Sequence[object], default: str) -> str:
    """The feature-set version the members were trained on (``default`` when none reads the
    feature store); members trained on different feature sets cannot form one version."""
    used = {m.feature_set_version_ for m in members if hasattr(m, "feature_set_version_")}
    if len(used) > 1:
        raise ValueError(f"members were trained on different feature sets {sorted(used)}")
    return used.pop() if used else default


def features_from_tags(tags: Mapping[str, str]) -> list[str] | None:
    """The feature-store inputs a version's members read, or None when it does not say."""
    raw = tags.get(MODEL_FEATURES_TAG)
    return list(json.loads(raw)) if raw else None


def metrics_from_tags(tags: Mapping[str, str]) -> dict[str, float]:
    """The ``metric.<name>`` tags of a version as floats."""
    return {
        k.removeprefix(METRIC_PREFIX): float(v)
        for k, v in tags.items()
        if k.startswith(METRIC_PREFIX)
    }


def missing_tags(tags: Mapping[str, str]) -> list[str]:
    """Required tags a version lacks (empty when complete; at least one metric is required)."""
    missing = [t for t in REQUIRED_TAGS if not tags.get(t)]
    return missing + ([] if metrics_from_tags(tags) else [f"{METRIC_PREFIX}*"])


# -- registering ----------------------------------------------------------------------------
def ensure_registered_model(client: MlflowClient, name: str = MODEL_NAME) -> None:
    try:
        client.create_registered_model(name, description="RetailIQ demand forecaster ensemble")
    except MlflowException as error:
        if "already exists" not in str(error).lower():
            raise


def register_version(
    client: MlflowClient,
    model_uri: str,
    tags: Mapping[str, str],
    name: str = MODEL_NAME,
    run_id: str | None = None,
    model_id: str | None = None,
    alias: str | None = CHALLENGER,
):
    """A new version of ``name`` from a logged model, tagged, with alias ``challenger``."""
    ensure_registered_model(client, name)
    version = client.create_model_version(
        name, source=model_uri, run_id=run_id, tags=dict(tags), model_id=model_id
    )
    if alias:
        client.set_registered_model_alias(name, alias, version.version)
    logger.info("registered %s version %s (alias %s)", name, version.version, alias)
    return client.get_model_version(name, version.version)


def alias_version(client: MlflowClient, name: str, alias: str):
    """The version an alias points to, or None."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


# -- moving the champion ----------------------------------------------------------------------
def record_decision(client: MlflowClient, name: str, version: str, decision: Decision) -> None:
    for key, value in decision.tags().items():
        client.set_model_version_tag(name, str(version), key, value)


def promote(client: MlflowClient, name: str, version: str | int, decision: Decision | None = None):
    """Point ``champion`` at ``version``; the replaced champion is kept in a version tag."""
    version = str(version)
    current = alias_version(client, name, CHAMPION)
    if current is not None and current.version != version:
        client.set_model_version_tag(name, version, PREVIOUS_CHAMPION, current.version)
    if decision is not None:
        record_decision(client, name, version, decision)
    client.set_model_version_tag(
        name, version, "promoted_at", datetime.now(UTC).isoformat(timespec="seconds")
    )
    client.set_registered_model_alias(name, CHAMPION, version)
    logger.info(
        "%s version %s is champion (was %s)", name, version, current.version if current else None
    )
    return client.get_model_version(name, version)


def promote_version(client: MlflowClient, name: str, version: str | int, reason: str = ""):
    """Manual promotion (the by-hand job): no gate, the reason is recorded."""
    client.get_model_version(name, str(version))  # raises for an unknown version
    decision = Decision(True, [f"manual promotion{': ' + reason if reason else ''}"])
    return promote(client, name, version, decision)


def rollback(client: MlflowClient, name: str = MODEL_NAME):
    """Move ``champion`` back to the version it replaced; error if there is none."""
    current = alias_version(client, name, CHAMPION)
    if current is None:
        raise LookupError(f"{name} has no champion to roll back")
    previous = current.tags.get(PREVIOUS_CHAMPION)
    if not previous:
        raise LookupError(f"{name} version {current.version} has no previous champion")
    client.set_registered_model_alias(name, CHAMPION, previous)
    client.set_model_version_tag(
        name, current.version, "rolled_back_at", datetime.now(UTC).isoformat(timespec="seconds")
    )
    logger.info("%s champion rolled back from %s to %s", name, current.version, previous)
    return client.get_model_version(name, previous)


def apply_gate(client: MlflowClient, name: str, version: str | int, decision: Decision):
    """Record the gate's decision on ``version`` and promote it when the decision says so."""
    if decision.promote:
        return promote(client, name, version, decision)
    record_decision(client, name, str(version), decision)
    return client.get_model_version(name, str(version))


def load_version(client: MlflowClient, name: str = MODEL_NAME, alias: str = CHAMPION):
    """The pyfunc behind an alias, told its registry version (the output's model_version)."""
    import mlflow.pyfunc

    version = client.get_model_version_by_alias(name, alias)
    uri = client.get_model_version_download_uri(name, version.version)
    return mlflow.pyfunc.load_model(uri, model_config={"model_version": version.version})
