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
import logging
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ml.schema import DS, UNIQUE_ID, Y

logger = logging.getLogger(__name__)

MODEL_NAME = "demand_forecaster"
CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous_champion"
METRIC_PREFIX = "metric."
DECISION_PREFIX = "promotion."
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


# -- the gate -------------------------------------------------------------------------------
@dataclass
class Decision:
    """Whether to promote, why, and the numbers the rules compared."""

    promote: bool
    reasons: list[str] = field(default_factory=list)
    numbers: dict[str, float] = field(default_factory=dict)

    def tags(self) -> dict[str, str]:
        """The decision as version tags (``promotion.*``)."""
        tags = {
            f"{DECISION_PREFIX}decision": "promote" if self.promote else "reject",
            f"{DECISION_PREFIX}reasons": "; ".join(self.reasons)[:4900],
            f"{DECISION_PREFIX}decided_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        tags.update({f"{DECISION_PREFIX}{k}": f"{v:.6g}" for k, v in self.numbers.items()})
        return tags


def decide_promotion(
    challenger_metrics: Mapping[str, float],
    champion_metrics: Mapping[str, float] | None,
    baseline_metrics: Mapping[str, float] | None,
    margin: float = 0.01,
    max_bias_worsening: float = 0.05,
    max_coverage_worsening: float = 0.02,
    levels: Sequence[int] = (80, 95),
) -> Decision:
    """The promotion gate; all metrics from the SAME latest backtest window.

    With a champion: the challenger's mean RMSSE must be at most ``(1 - margin)`` times the
    champion's, its |bias| may grow by at most ``max_bias_worsening`` (units) and its coverage
    error ``|coverage_<level> - level/100|`` by at most ``max_coverage_worsening`` per level.
    Without one (the first version ever): it must beat the baseline (seasonal naive) on RMSSE.
    """
    numbers = {"challenger_rmsse": float(challenger_metrics.get("rmsse", float("nan")))}
    if baseline_metrics is not None:
        numbers["baseline_rmsse"] = float(baseline_metrics["rmsse"])
    if champion_metrics is None:
        return _first_version(numbers)
    checks = [
        _rmsse_check(numbers, champion_metrics, margin),
        _bias_check(numbers, challenger_metrics, champion_metrics, max_bias_worsening),
    ]
    checks += [
        _coverage_check(numbers, challenger_metrics, champion_metrics, lv, max_coverage_worsening)
        for lv in levels
    ]
    if "baseline_rmsse" in numbers:
        ok = numbers["challenger_rmsse"] < numbers["baseline_rmsse"]
        checks.append(
            (
                ok,
                f"RMSSE {numbers['challenger_rmsse']:.4f} "
                f"{'<' if ok else '>='} seasonal naive {numbers['baseline_rmsse']:.4f}",
            )
        )
    return Decision(all(ok for ok, _ in checks), [why for _, why in checks], numbers)


def _first_version(numbers: dict[str, float]) -> Decision:
    if "baseline_rmsse" not in numbers:
        return Decision(False, ["no champion and no baseline metrics to compare with"], numbers)
    ok = numbers["challenger_rmsse"] < numbers["baseline_rmsse"]
    verb = "beats" if ok else "does not beat"
    return Decision(
        ok,
        [
            f"first version: RMSSE {numbers['challenger_rmsse']:.4f} {verb} "
            f"seasonal naive {numbers['baseline_rmsse']:.4f}"
        ],
        numbers,
    )


def _rmsse_check(numbers, champion, margin) -> tuple[bool, str]:
    numbers["champion_rmsse"] = float(champion["rmsse"])
    numbers["rmsse_threshold"] = numbers["champion_rmsse"] * (1.0 - margin)
    ok = numbers["challenger_rmsse"] <= numbers["rmsse_threshold"]
    return ok, (
        f"RMSSE {numbers['challenger_rmsse']:.4f} {'<=' if ok else '>'} champion "
        f"{numbers['champion_rmsse']:.4f} x (1 - {margin:g})"
    )


def _bias_check(numbers, challenger, champion, limit) -> tuple[bool, str]:
    if "bias" not in champion or pd.isna(champion["bias"]):
        return True, "bias: champion has none, not compared"
    numbers["challenger_abs_bias"] = abs(float(challenger.get("bias", float("nan"))))
    numbers["champion_abs_bias"] = abs(float(champion["bias"]))
    worsening = numbers["challenger_abs_bias"] - numbers["champion_abs_bias"]
    ok = bool(worsening <= limit)  # a challenger without bias (NaN) fails
    return ok, f"|bias| worsens by {worsening:.4f} ({'within' if ok else 'beyond'} {limit:g})"


def _coverage_check(numbers, challenger, champion, level, limit) -> tuple[bool, str]:
    key = f"coverage_{level}"
    if key not in champion or pd.isna(champion[key]):
        return True, f"{key}: champion has none, not compared"
    error = abs(float(challenger.get(key, float("nan"))) - level / 100)
    reference = abs(float(champion[key]) - level / 100)
    numbers[f"challenger_{key}_error"], numbers[f"champion_{key}_error"] = error, reference
    ok = bool(error - reference <= limit)  # a challenger without coverage (NaN) fails
    return ok, (
        f"{key} error {error:.3f} vs champion {reference:.3f} "
        f"({'within' if ok else 'beyond'} +{limit:g})"
    )


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
