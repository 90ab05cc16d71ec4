"""The ``retailiq`` command as a person drives it: a manual run with its reason, and the drift
history used to choose the KL threshold (a real instance and data folder, in a subprocess)."""

import os
import subprocess
import sys

import dagster as dg
import pytest

from ml.monitoring.triggers import EVIDENCE_TAG, TRIGGER_TAG


def _retailiq(args, env, cwd):
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])
    return done.stdout


@pytest.mark.slow
def test_a_manual_run_carries_its_reason_and_drift_history_reads_its_features(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RETAILIQ_", "DAGSTER_"))},
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "RETAILIQ_DATA_DIR": str(tmp_path / "data"),
    }
    landing = tmp_path / "data" / "landing"
    _retailiq(["generate", str(landing), "--days", "120", "--items", "6"], env, tmp_path)
    out = _retailiq(["run", "--job", "data_job", "--reason", "new store opened"], env, tmp_path)
    assert "succeeded" in out
    os.environ["DAGSTER_HOME"], previous = env["DAGSTER_HOME"], os.environ.get("DAGSTER_HOME")
    try:
        with dg.DagsterInstance.get() as instance:
            [run] = instance.get_runs(dg.RunsFilter(job_name="data_job"))
    finally:
        os.environ.pop("DAGSTER_HOME")
        if previous is not None:
            os.environ["DAGSTER_HOME"] = previous
    assert run.tags[TRIGGER_TAG] == "manual"
    assert "new store opened" in run.tags[EVIDENCE_TAG]
    history = _retailiq(["drift-history", "--weeks", "2"], env, tmp_path)
    assert "kl_significant" in history and "largest significant KL" in history
