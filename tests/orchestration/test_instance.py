"""The instance follows dagster.yaml: SQLite by default, PostgreSQL when one variable is set."""

import shutil
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster_postgres import DagsterPostgresStorage, PostgresRunStorage

from ml.synthetic import write_landing_files
from orchestration.definitions import build_definitions

REPO_ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def dagster_home(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_default_instance_is_sqlite_under_dagster_home(dagster_home, monkeypatch):
    monkeypatch.delenv("DAGSTER_POSTGRES_URL", raising=False)
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, SqliteRunStorage)
        assert (dagster_home / "storage").is_dir()


@pytest.mark.postgres
def test_one_variable_switches_the_instance_to_postgres(
    dagster_home, monkeypatch, settings, small_synthetic
):
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", POSTGRES_URL)
    write_landing_files(small_synthetic, settings.landing_path)
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        job = build_definitions(settings).resolve_job_def("ingestion_job")
        result = job.execute_in_process(instance=instance)
        assert result.success
        # The instance ref handed to run workers rehydrates to PostgreSQL as well.
        ref_storage = instance.get_ref().storage_data.rehydrate()
        assert isinstance(ref_storage, DagsterPostgresStorage)
    with psycopg.connect(POSTGRES_URL) as db:
        row = db.execute("SELECT status FROM runs WHERE run_id = %s", (result.run_id,)).fetchone()
    assert row == ("SUCCESS",)
