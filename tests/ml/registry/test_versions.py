"""Registry helpers: version tags, the promotion gate, promotion, manual promotion, rollback."""

from __future__ import annotations

import re

import mlflow
import pandas as pd
import pytest
from testkit.registry import sqlite_tracking, tracking_uri_restored

from ml.registry.gate import decide_promotion
from ml.registry.tracking import tracked_run
from ml.registry.versions import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION,
    alias_version,
    apply_gate,
    code_version,
    data_checksum,
    metrics_from_tags,
    missing_tags,
    promote,
    promote_version,
    register_version,
    rollback,
    version_tags,
)
from ml.schema import DS, UNIQUE_ID, Y

NAME = "demand_forecaster"
NAIVE = {"rmsse": 1.00}


def _history() -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=10, freq="D")
    return pd.DataFrame(
        {
            UNIQUE_ID: ["a"] * 10 + ["b"] * 10,
            DS: list(dates) * 2,
            Y: [float(i % 3) for i in range(20)],
        }
    )


# -- tags -----------------------------------------------------------------------------------
def test_code_version_is_the_git_commit_or_unknown(tmp_path):
    assert re.fullmatch(r"[0-9a-f]{40}", code_version())
    assert code_version(tmp_path) == "unknown"


def test_data_checksum_ignores_row_order_and_sees_changes():
    history = _history()
    assert data_checksum(history) == data_checksum(history.sample(frac=1, random_state=1))
    changed = history.assign(**{Y: history[Y] + (history.index == 3)})
    assert data_checksum(changed) != data_checksum(history)


def test_version_tags_are_complete():
    tags = version_tags(_history(), "fs-3", {"rmsse": 0.8, "wape": float("nan")}, code="abc")
    assert missing_tags(tags) == []
    assert tags["training_window_start"] == "2024-01-01"
    assert tags["training_window_end"] == "2024-01-10"
    assert metrics_from_tags(tags) == {"rmsse": 0.8}
    assert missing_tags({"code_version": "abc"}) != []


# -- the registry ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("registry")
    config = sqlite_tracking(tmp_path, "registry-test")
    with tracking_uri_restored():
        with tracked_run(config, "model") as run:
            (tmp_path / "model").mkdir()
            (tmp_path / "model" / "MLmodel").write_text("artifact_path: model\n")
            mlflow.log_artifacts(str(tmp_path / "model"), artifact_path="model")
        client = config.client()
        client.run_id = run.info.run_id
        yield client


def _register(client, rmsse: float, name: str = NAME):
    uri = client.get_run(client.run_id).info.artifact_uri + "/model"
    tags = version_tags(_history(), "fs-1", {"rmsse": rmsse}, code="abc")
    return register_version(client, uri, tags, name, run_id=client.run_id)


@pytest.mark.slow
def test_register_tag_promote_and_roll_back(client):
    first = _register(client, 0.9)
    assert first.tags["code_version"] == "abc"
    assert missing_tags(first.tags) == []
    assert alias_version(client, NAME, CHALLENGER).version == first.version
    apply_gate(client, NAME, first.version, decide_promotion({"rmsse": 0.9}, None, NAIVE))
    assert alias_version(client, NAME, CHAMPION).version == first.version

    worse = _register(client, 0.95)
    decision = decide_promotion({"rmsse": 0.95}, {"rmsse": 0.9}, NAIVE)
    apply_gate(client, NAME, worse.version, decision)
    assert alias_version(client, NAME, CHAMPION).version == first.version
    assert client.get_model_version(NAME, worse.version).tags["promotion.decision"] == "reject"

    better = _register(client, 0.7)
    apply_gate(
        client, NAME, better.version, decide_promotion({"rmsse": 0.7}, {"rmsse": 0.9}, NAIVE)
    )
    promoted = alias_version(client, NAME, CHAMPION)
    assert promoted.version == better.version
    assert promoted.tags[PREVIOUS_CHAMPION] == str(first.version)
    assert promoted.tags["promotion.decision"] == "promote"

    assert rollback(client, NAME).version == first.version
    assert alias_version(client, NAME, CHAMPION).version == first.version
    with pytest.raises(LookupError, match="no previous champion"):
        rollback(client, NAME)


def test_manual_promotion_records_the_reason(client):
    name = "manual"
    first, second = _register(client, 0.9, name), _register(client, 0.95, name)
    promote(client, name, first.version)
    version = promote_version(client, name, second.version, reason="hotfix for store CA_1")
    assert alias_version(client, name, CHAMPION).version == second.version
    assert "hotfix" in version.tags["promotion.reasons"]
    assert version.tags[PREVIOUS_CHAMPION] == str(first.version)
    with pytest.raises(Exception):  # noqa: B017 -- MLflow raises its own error type
        promote_version(client, name, 99)


def test_rollback_without_a_champion_is_an_error(client):
    _register(client, 0.9, "lonely")
    with pytest.raises(LookupError, match="no champion"):
        rollback(client, "lonely")
