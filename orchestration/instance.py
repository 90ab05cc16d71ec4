"""Instance storage that follows one environment variable.

``dagster.yaml`` names :class:`RetailIQStorage`. With ``DAGSTER_POSTGRES_URL`` unset it is the
embedded SQLite storage under ``$DAGSTER_HOME/storage``; with it set (e.g.
``postgresql://user:pass@host:5432/dagster``) it is dagster-postgres. The delegate is built from
its own configurable-class data, and the instance ref handed to run workers and the daemon names
this class, so they re-read the URL from their environment: it is never written down.
"""

from __future__ import annotations

import os

import yaml
from dagster._core.storage.base_storage import DagsterStorage
from dagster._serdes import ConfigurableClass, ConfigurableClassData

POSTGRES_URL_ENV = "DAGSTER_POSTGRES_URL"


class RetailIQStorage(DagsterStorage, ConfigurableClass):
    """Factory only: ``from_config_value`` returns the SQLite or PostgreSQL storage."""

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: dict):
        if os.environ.get(POSTGRES_URL_ENV):
            return _postgres_storage()
        return _sqlite_storage()


def _postgres_storage():
    from dagster_postgres import DagsterPostgresStorage

    # dagster-postgres speaks psycopg2; SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3.
    url = os.environ[POSTGRES_URL_ENV]
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    config = {"postgres_url": url}
    data = ConfigurableClassData("dagster_postgres", "DagsterPostgresStorage", yaml.dump(config))
    return data.rehydrate(as_type=DagsterPostgresStorage)


def _sqlite_storage():
    from dagster._core.storage.sqlite_storage import DagsterSqliteStorage

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise RuntimeError("DAGSTER_HOME must be set to use the SQLite instance storage")
    config = {"base_dir": os.path.join(home, "storage")}
    data = ConfigurableClassData(
        "dagster._core.storage.sqlite_storage", "DagsterSqliteStorage", yaml.dump(config)
    )
    return data.rehydrate(as_type=DagsterSqliteStorage)
