"""A tiny registry for the serving tests: two versions of ``demand_forecaster`` in SQLite.

Version 1 (champion) and version 2 (challenger) are the same fitted members (two baselines and
a small price-aware XGBoost: ``small_ensemble_parts`` in the root conftest) under different ensemble
weights, so their forecasts differ and a test can tell which one answered.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
import uvicorn
from fastapi.testclient import TestClient
from testkit.registry import register_ensemble, sqlite_tracking, tracking_uri_restored

from ml.ensemble.weights import Ensemble, EnsembleWeights
from ml.registry.tracking import TrackingConfig
from ml.registry.versions import MODEL_NAME
from ml.schema import DS, UNIQUE_ID
from serving.app import create_app
from serving.settings import ServingSettings

H = 14
KEYS = {"reader-key": "reader", "manager-key": "manager", "admin-key": "admin"}
WEIGHTS = {
    1: {"SeasonalNaive": 0.3, "MovingAverage": 0.2, "XGBoost": 0.5},
    2: {"SeasonalNaive": 0.7, "MovingAverage": 0.2, "XGBoost": 0.1},
}


@pytest.fixture(scope="session")
def history(price_response_history) -> pd.DataFrame:
    return price_response_history(stores=(1, 2), n_items=3, n_days=120)


@pytest.fixture(scope="session")
def registry(tmp_path_factory, history, small_ensemble_parts) -> Iterator[TrackingConfig]:
    """Versions 1 (champion) and 2 (challenger) of demand_forecaster in a temporary store."""
    config = sqlite_tracking(tmp_path_factory.mktemp("serving-mlflow"), "serving-test")
    members, calibration = small_ensemble_parts(history, H)
    with tracking_uri_restored():
        for number, weights in WEIGHTS.items():
            ensemble = Ensemble(EnsembleWeights("test", pd.Series(weights)), calibration)
            tags = {
                "code_version": "test",
                "metric.rmsse": f"{0.8 + number / 100}",
                "training_window_end": str(history[DS].max().date()),
            }
            register_ensemble(
                config,
                members,
                ensemble,
                history,
                tags,
                run_name=f"ensemble-{number}",
                champion=number == 1,
                max_horizon=H,
            )
    yield config


def serving_settings(registry: TrackingConfig, **overrides) -> ServingSettings:
    values = {
        "tracking_uri": registry.tracking_uri,
        "api_keys": KEYS,
        "poll_interval_s": 0,
        "access_log": False,
    }
    return ServingSettings(_env_file=None, **{**values, **overrides})


@pytest.fixture(scope="session")
def running_app(registry):
    """``with running_app(**settings) as client``: a fresh app, lifespan run (model loaded)."""

    @contextmanager
    def start(**overrides) -> Iterator[TestClient]:
        with TestClient(create_app(serving_settings(registry, **overrides))) as test_client:
            yield test_client

    return start


@pytest.fixture(scope="module")
def client(running_app) -> Iterator[TestClient]:
    with running_app() as test_client:
        yield test_client


@pytest.fixture
def set_champion(registry):
    """Move ``champion``; the test's moves are undone afterwards (version 1 again)."""

    def move(version: str) -> None:
        registry.client().set_registered_model_alias(MODEL_NAME, "champion", version)

    yield move
    move("1")


@pytest.fixture(scope="session")
def horizon() -> int:
    """The maximum horizon of the registered versions."""
    return H


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(registry):
    """``with live_server(**settings) as base_url``: the app under uvicorn on loopback."""

    @contextmanager
    def start(**overrides) -> Iterator[str]:
        app = create_app(serving_settings(registry, **overrides))
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=30)

    return start


def _pricing_rows() -> dict[str, pd.DataFrame]:
    """Three series of two items (B_1 in two stores), a third item with no estimate."""
    ids = ["CA_1__A_1", "CA_1__B_1", "TX_1__B_1"]
    stores, items = ["CA_1", "CA_1", "TX_1"], ["A_1", "B_1", "B_1"]
    recommendations = pd.DataFrame(
        {
            UNIQUE_ID: ids,
            "store_id": stores,
            "item_id": items,
            "strategy": "profit",
            "current_price": [5.0, 2.0, 2.1],
            "recommended_price": [5.5, 2.2, 2.31],
            "change_pct": [10.0, 10.0, 10.0],
            "unit_cost": [3.0, 1.3, 1.3],
            "cost_source": "assumed_margin",
            "expected_units": [100.0, 280.0, 250.0],
            "expected_revenue": [550.0, 616.0, 577.5],
            "expected_profit": [250.0, 252.0, 252.5],
            "elasticity": [-2.0, -0.6, -0.6],
            "elasticity_method": ["shrunk", "item", "item"],
            "confidence": [0.9, 0.6, 0.6],
            "confidence_label": ["high", "medium", "medium"],
            "reasoning": "profit: test row; inside the bounds.",
        }
    )
    elasticities = pd.DataFrame(
        {
            "item_id": ["A_1", "B_1", "C_1"],
            "dept_id": ["A", "B", "C"],
            "cat_id": ["A", "B", "C"],
            "elasticity": [-2.0, -0.6, np.nan],
            "se": [0.3, 0.2, np.nan],
            "lo_90": [-2.49, -0.93, np.nan],
            "hi_90": [-1.51, -0.27, np.nan],
            "n_price_changes": [14, 25, 2],
            "n_weeks": [100, 100, 100],
            "n_stores": [1, 2, 1],
            "method": ["shrunk", "item", "insufficient"],
            "raw_elasticity": [-2.2, -0.6, np.nan],
            "raw_se": [0.5, 0.2, np.nan],
        }
    )
    reorder = pd.DataFrame(
        {
            UNIQUE_ID: ids,
            "store_id": stores,
            "item_id": items,
            "lead_time_days": 7,
            "service_level": 0.95,
            "daily_demand": [4.0, 10.0, 9.0],
            "lead_time_demand": [28.0, 70.0, 63.0],
            "lead_time_sigma": [4.0, 6.0, 6.0],
            "safety_stock": [6.6, 9.9, 9.9],
            "reorder_point": [34.6, 79.9, 72.9],
            "order_up_to": [65.0, 150.0, 140.0],
            "stock": [20.0, 200.0, 140.0],
            "stock_source": ["inventory", "assumed", "assumed"],
            "order_now": [True, False, False],
            "order_quantity": [45.0, 0.0, 0.0],
            "stockout_alert": [True, False, False],
        }
    )
    return {"recommendations": recommendations, "elasticities": elasticities, "reorder": reorder}


@pytest.fixture(scope="session")
def seed_pricing():
    """``seed_pricing(url)``: a pricing store with one batch of each table, as the assets write."""
    from ml.pricing.store import PricingStore

    def seed(url: str) -> PricingStore:
        store, rows = PricingStore(url), _pricing_rows()
        store.save_elasticities(rows["elasticities"], "batch-1")
        store.save_recommendations(rows["recommendations"], "batch-1")
        store.save_reorder_points(rows["reorder"], "batch-1")
        return store

    return seed
