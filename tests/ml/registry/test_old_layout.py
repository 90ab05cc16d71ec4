"""A version pickled before ml/ was split by domain still loads and forecasts the same.

The old code is the revision before the move (``git archive``): it registers a small ensemble
in a temporary registry, with its predictions beside it; this code loads that version by alias.
Nothing is committed as a pickle; the repository's history is the fixture.
"""

import json
import os
import subprocess
import tarfile
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from testkit.processes import run_python

REPO = Path(__file__).resolve().parents[3]
BEFORE_THE_MOVE = "768943b305b0dbaea5ec06d12cd1b2fbf2f51373"
SCRIPT = Path(__file__).with_name("old_layout_model.py")


def _old_code(folder: Path) -> Path:
    archive = folder / "old.tar"
    with archive.open("wb") as handle:
        done = subprocess.run(["git", "archive", BEFORE_THE_MOVE], cwd=REPO, stdout=handle)
    if done.returncode:
        pytest.fail(f"revision {BEFORE_THE_MOVE} is not in this clone's history: fetch it")
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "code", filter="data")
    return folder / "code"


@pytest.mark.slow
def test_a_version_pickled_with_the_old_module_paths_loads_and_forecasts_the_same(
    tmp_path, global_uris
):
    code = _old_code(tmp_path)
    registry = tmp_path / "registry"
    registry.mkdir()
    env = {**os.environ, "PYTHONPATH": str(code), "MLFLOW_TRACKING_URI": ""}
    script = f"import sys; sys.path.insert(0, {str(code)!r}); exec(open({str(SCRIPT)!r}).read())"
    run = run_python(["-c", script, str(registry)], cwd=code, env=env, timeout=600)
    uri = json.loads(run.stdout.strip().splitlines()[-1])["uri"]
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    model = mlflow.pyfunc.load_model("models:/demand_forecaster@champion")
    ids = pd.DataFrame({"unique_id": ["S_1__ITEM_0", "S_1__ITEM_2"]})
    got = model.predict(ids, params={"h": 7, "level": [80]})
    expected = pd.read_json(registry / "expected.json")
    for column in ("Ensemble", "Ensemble-lo-80", "Ensemble-hi-80"):
        assert got[column].to_numpy() == pytest.approx(expected[column].to_numpy(), rel=1e-9)
    days = pd.to_datetime(got["ds"]).dt.strftime("%Y-%m-%d").tolist()
    assert days == pd.to_datetime(expected["ds"]).dt.strftime("%Y-%m-%d").tolist()
