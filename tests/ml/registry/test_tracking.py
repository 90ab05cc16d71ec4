"""Parallel first use of a new SQLite tracking store (the model families start together)."""

from concurrent.futures import ProcessPoolExecutor

import pytest

from ml.registry.tracking import TrackingConfig, ensure_experiment


def _touch(uri: str) -> str:
    return ensure_experiment(TrackingConfig(uri, "retailiq"))


@pytest.mark.slow
def test_processes_creating_the_store_at_once_agree_on_one_experiment(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with ProcessPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(_touch, [uri] * 4))
    assert len(set(ids)) == 1
