"""RetailIQ feature store: feature definitions, transforms, offline and online stores.

Plain functions and small classes over long frames; nothing here imports Dagster or FastAPI.

* ``definitions`` -- every feature's name, family, dtype and null rule; ``FEATURE_SET_VERSION``
* ``build`` -- ``build_features`` (offline table) and ``online_state``; the leakage design is
  documented there
* ``joins`` -- ``build_training_set`` and ``build_forecast_set``: the point-in-time join that
  every global model trains and forecasts through
* ``future`` -- the known-in-advance inputs of the days ahead (``future_exogenous``)
* ``calendar``, ``price``, ``history``, ``derived``, ``static`` -- the feature families
* ``offline`` -- ``OfflineStore``: versioned Parquet table keyed by ``(unique_id, ds)``
* ``online`` -- ``open_online_store(url)``: SQLite (default), Redis or PostgreSQL
* ``checks`` -- ``find_missing`` and ``find_leakage`` for the asset checks
"""

from feature_store.build import build_features, online_state
from feature_store.checks import find_leakage, find_missing, find_training_leakage
from feature_store.definitions import FEATURE_SET_VERSION, FeatureVersionError
from feature_store.joins import build_forecast_set, build_training_set
from feature_store.offline import OfflineStore
from feature_store.online import DEFAULT_ONLINE_URL, OnlineStore, open_online_store

__all__ = [
    "DEFAULT_ONLINE_URL",
    "FEATURE_SET_VERSION",
    "FeatureVersionError",
    "OfflineStore",
    "OnlineStore",
    "build_features",
    "build_forecast_set",
    "build_training_set",
    "find_leakage",
    "find_missing",
    "find_training_leakage",
    "online_state",
    "open_online_store",
]
