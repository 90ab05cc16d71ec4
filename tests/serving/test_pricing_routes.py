"""Pricing and inventory routes over a seeded pricing store (SQLite, and PostgreSQL for the
status changes): filters and pages, 401/403/404/409/422/503, decisions stored with who and
when, and the optimiser's answer equal to ``ml.pricing.optimizer`` called directly."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from ml.pricing.optimizer import PriceBounds, optimize
from ml.pricing.store import PricingStore
from serving.app import create_app
from serving.metrics import ServingMetrics
from serving.service import ModelService
from serving.settings import ServingSettings

KEYS = {"reader-key": "reader", "manager-key": "manager", "admin-key": "admin"}
READER, MANAGER, ADMIN = ({"X-API-Key": k} for k in KEYS)
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RECS = "/v1/pricing/recommendations"


class NoRegistry:
    """The pricing routes need no model: the service stays not-ready, quickly."""

    def alias_version(self, alias: str):
        raise RuntimeError("no registry in the pricing tests")


@contextmanager
def pricing_app(url: str, **overrides) -> Iterator[TestClient]:
    values = {"api_keys": KEYS, "poll_interval_s": 0, "access_log": False, "pricing_db_url": url}
    settings = ServingSettings(_env_file=None, **{**values, **overrides})
    service = ModelService(settings, ServingMetrics(), registry=NoRegistry())
    with TestClient(create_app(settings, service)) as client:
        yield client


@pytest.fixture
def store(tmp_path, seed_pricing) -> Iterator[PricingStore]:
    store = seed_pricing(f"sqlite:///{tmp_path / 'pricing.db'}")
    yield store
    store.dispose()


@pytest.fixture
def client(store) -> Iterator[TestClient]:
    with pricing_app(store.url) as test_client:
        yield test_client


def ids_of(client, store, **filters) -> dict[str, int]:
    frame = store.list_recommendations(**filters)
    return dict(zip(frame["unique_id"], frame["id"], strict=True))


# -- recommendations ----------------------------------------------------------------------------
def test_recommendations_filter_and_page(client):
    page = client.get(RECS, headers=READER).json()
    assert [r["series_id"] for r in page["recommendations"]] == [
        "CA_1__A_1",
        "CA_1__B_1",
        "TX_1__B_1",
    ]
    assert page["batch"] == "latest" and page["next_offset"] is None
    first = page["recommendations"][0]
    assert first["status"] == "pending" and first["status_by"] == "system"
    assert first["recommended_price"] == 5.5 and first["created_at"].endswith("Z")

    def series(**params) -> list[str]:
        body = client.get(RECS, params=params, headers=READER).json()
        return [r["series_id"] for r in body["recommendations"]]

    assert series(item_id="B_1") == ["CA_1__B_1", "TX_1__B_1"]
    assert series(store_id="TX_1") == ["TX_1__B_1"]
    assert series(item_id="B_1", store_id="CA_1", strategy="profit") == ["CA_1__B_1"]
    assert series(status="accepted") == [] and series(strategy="clearance") == []
    first_page = client.get(RECS, params={"limit": 2}, headers=READER).json()
    assert len(first_page["recommendations"]) == 2 and first_page["next_offset"] == 2
    last = client.get(RECS, params={"limit": 2, "offset": 2}, headers=READER).json()
    assert [r["series_id"] for r in last["recommendations"]] == ["TX_1__B_1"]
    assert last["next_offset"] is None


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"status": "done"}, {"strategy": "x"}]
)
def test_recommendation_filters_are_validated(client, params):
    response = client.get(RECS, params=params, headers=READER)
    assert response.status_code == 422 and response.json()["name"] == "validation_error"


def test_one_recommendation_with_its_history_or_a_404(client, store):
    rec_id = ids_of(client, store)["CA_1__A_1"]
    body = client.get(f"{RECS}/{rec_id}", headers=READER).json()
    assert body["id"] == rec_id and body["series_id"] == "CA_1__A_1"
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in body["history"]] == [
        (None, "pending", "system")
    ]
    missing = client.get(f"{RECS}/999999", headers=READER)
    assert missing.status_code == 404 and missing.json()["name"] == "not_found"
    assert "999999" in missing.json()["message"] and missing.json()["request_id"]


# -- accept / reject ----------------------------------------------------------------------------
def identity(key: str, role: str) -> str:
    return f"{role}:{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def check_accept_persists(client: TestClient, store: PricingStore) -> None:
    ids = ids_of(client, store)
    rec_id, other = ids["CA_1__A_1"], ids["CA_1__B_1"]
    before = datetime.now(UTC).replace(tzinfo=None)
    response = client.post(f"{RECS}/{rec_id}/accept", json={"note": "ok"}, headers=MANAGER)
    assert response.status_code == 200, response.text
    body = response.json()
    actor = identity("manager-key", "manager")
    assert body["status"] == "accepted" and body["status_by"] == actor
    assert "manager-key" not in response.text  # the key itself is never stored or echoed

    stored = store.get_recommendation(rec_id)  # read back through the store
    assert stored["status"] == "accepted" and stored["status_by"] == actor
    assert before <= stored["status_at"] <= datetime.now(UTC).replace(tzinfo=None)
    last = store.history(rec_id).iloc[-1]
    assert (last["from_status"], last["to_status"], last["actor"], last["note"]) == (
        "pending",
        "accepted",
        actor,
        "ok",
    )
    listed = client.get(RECS, params={"status": "accepted"}, headers=READER).json()
    assert [(r["id"], r["status_by"]) for r in listed["recommendations"]] == [(rec_id, actor)]

    again = client.post(f"{RECS}/{rec_id}/accept", headers=MANAGER)
    assert again.status_code == 409 and again.json()["name"] == "conflict"
    assert "is accepted, not pending" in again.json()["message"]
    assert client.post(f"{RECS}/{rec_id}/reject", headers=ADMIN).status_code == 409
    missing = client.post(f"{RECS}/987654/accept", headers=MANAGER)
    assert missing.status_code == 404 and missing.json()["name"] == "not_found"

    rejected = client.post(f"{RECS}/{other}/reject", headers=ADMIN)
    assert rejected.status_code == 200
    assert rejected.json()["status_by"] == identity("admin-key", "admin")
    assert [e["to_status"] for e in rejected.json()["history"]] == ["pending", "rejected"]
    assert store.get_recommendation(other)["status"] == "rejected"


def test_accept_and_reject_persist_who_and_when(client, store):
    check_accept_persists(client, store)


def test_only_managers_and_admins_decide(client, store):
    rec_id = ids_of(client, store)["CA_1__A_1"]
    for headers, status in (({}, 401), ({"X-API-Key": "nope"}, 401), (READER, 403)):
        for action in ("accept", "reject"):
            response = client.post(f"{RECS}/{rec_id}/{action}", headers=headers)
            assert response.status_code == status, (headers, action)
    assert "manager role" in response.json()["message"]
    assert store.get_recommendation(rec_id)["status"] == "pending"
    assert client.get(RECS).status_code == 401
    bearer = {"Authorization": "Bearer manager-key"}
    assert client.post(f"{RECS}/{rec_id}/reject", headers=bearer).status_code == 200


def test_bad_decision_bodies_and_ids_are_422(client, store):
    rec_id = ids_of(client, store)["CA_1__A_1"]
    assert client.post(f"{RECS}/0/accept", headers=MANAGER).status_code == 422
    assert client.post(f"{RECS}/{2**40}/accept", headers=MANAGER).status_code == 422
    extra = client.post(f"{RECS}/{rec_id}/accept", json={"who": "me"}, headers=MANAGER)
    assert extra.status_code == 422
    assert store.get_recommendation(rec_id)["status"] == "pending"


@pytest.mark.postgres
def test_accept_and_reject_persist_on_postgres(seed_pricing):
    schema = f"serving_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:  # fails (never skips) when the server is missing
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    store = seed_pricing(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    try:
        with pricing_app(store.url) as client:
            check_accept_persists(client, store)
    finally:
        store.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


# -- elasticity, reorder points ------------------------------------------------------------------
def test_elasticity_of_an_item_or_a_404(client):
    body = client.get("/v1/pricing/elasticity/A_1", headers=READER).json()
    assert body["elasticity"] == -2.0 and body["se"] == 0.3 and body["method"] == "shrunk"
    assert (body["lo_90"], body["hi_90"], body["n_price_changes"]) == (-2.49, -1.51, 14)
    insufficient = client.get("/v1/pricing/elasticity/C_1", headers=READER).json()
    assert insufficient["elasticity"] is None and insufficient["method"] == "insufficient"
    missing = client.get("/v1/pricing/elasticity/NOPE_9", headers=READER)
    assert missing.status_code == 404 and missing.json()["name"] == "not_found"
    assert "NOPE_9" in missing.json()["message"]


def test_reorder_points_filter_and_page(client):
    def series(**params) -> list[str]:
        response = client.get("/v1/inventory/reorder-points", params=params, headers=READER)
        assert response.status_code == 200, response.text
        return [r["series_id"] for r in response.json()["reorder_points"]]

    assert series() == ["CA_1__A_1", "CA_1__B_1", "TX_1__B_1"]
    assert series(alerts_only=True) == ["CA_1__A_1"]
    assert series(item_id="B_1") == ["CA_1__B_1", "TX_1__B_1"]
    assert series(store_id="TX_1") == ["TX_1__B_1"] and series(item_id="Z") == []
    assert series(limit=1, offset=1) == ["CA_1__B_1"]
    row = client.get("/v1/inventory/reorder-points", headers=READER).json()["reorder_points"][0]
    assert row["stockout_alert"] is True and row["reorder_point"] == 34.6
    assert row["order_quantity"] == 45.0 and row["stock_source"] == "inventory"


# -- optimize ----------------------------------------------------------------------------------
OPTIMIZE = "/v1/pricing/optimize"


def answer_matches(body: dict, expected: dict) -> None:
    for key, value in expected.items():
        assert body[key] == (pytest.approx(value) if isinstance(value, float) else value), key


def test_optimize_explicit_inputs_equal_the_optimizer(client):
    request = {
        "current_price": 5.0,
        "unit_cost": 3.0,
        "elasticity": -2.0,
        "elasticity_se": 0.3,
        "daily_demand": 4.0,
        "strategy": "clearance",
        "stock": 150,
        "clearance_days": 20,
        "bounds": {"max_step": 0.15, "min_price": 4.0},
    }
    response = client.post(OPTIMIZE, json=request, headers=READER)
    assert response.status_code == 200, response.text
    expected = optimize(
        5.0,
        3.0,
        -2.0,
        4.0,
        "clearance",
        PriceBounds(max_step=0.15, min_price=4.0),
        stock=150,
        elasticity_se=0.3,
        clearance_days=20,
    )
    answer_matches(response.json(), expected)
    assert set(response.json()["sources"].values()) == {"request"}


def test_optimize_known_item_takes_stored_inputs(client):
    body = {"item_id": "B_1", "store_id": "CA_1", "strategy": "revenue", "horizon_days": 14}
    response = client.post(OPTIMIZE, json=body, headers=READER)
    assert response.status_code == 200, response.text
    expected = optimize(2.0, 1.3, -0.6, 10.0, "revenue", elasticity_se=0.2, horizon_days=14)
    answer_matches(response.json(), expected)
    assert response.json()["sources"] == {
        "elasticity": "elasticities",
        "elasticity_se": "elasticities",
        "current_price": "recommendations",
        "unit_cost": "recommendations",
        "daily_demand": "reorder_points",
    }
    overridden = {"item_id": "A_1", "unit_cost": 2.0, "strategy": "clearance", "clearance_days": 5}
    response = client.post(OPTIMIZE, json=overridden, headers=READER)
    assert response.status_code == 200, response.text
    expected = optimize(5.0, 2.0, -2.0, 4.0, "clearance", stock=20.0, elasticity_se=0.3,
                        clearance_days=5)  # fmt: skip
    answer_matches(response.json(), expected)
    assert response.json()["store_id"] == "CA_1"
    assert response.json()["sources"]["unit_cost"] == "request"
    assert response.json()["sources"]["stock"] == "reorder_points"


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"item_id": "NOPE_9"}, 404, "no item 'NOPE_9'"),
        ({"item_id": "A_1", "store_id": "TX_1"}, 404, "TX_1__A_1"),
        ({"item_id": "B_1"}, 422, "give store_id"),
        ({"item_id": "C_1"}, 422, "no stored current_price, unit_cost, elasticity"),
        ({"current_price": 5.0}, 422, "give unit_cost, elasticity, daily_demand"),
        ({"store_id": "CA_1", "elasticity": -2}, 422, "store_id needs an item_id"),
        ({"item_id": "A_1", "strategy": "clearance"}, 422, "needs clearance_days"),
        ({"item_id": "A_1", "strategy": "markup"}, 422, "strategy"),
    ],
)
def test_optimize_unknown_items_and_missing_inputs(client, body, status, words):
    response = client.post(OPTIMIZE, json=body, headers=READER)
    assert response.status_code == status, response.text
    assert words in response.json()["message"]


EXPLICIT = {"current_price": 5.0, "unit_cost": 3.0, "elasticity": -2.0, "daily_demand": 4.0}


@pytest.mark.parametrize(
    "change, words",
    [
        ({"bounds": {"min_price": 6.0, "max_price": 6.0}}, "must be below max_price"),
        ({"bounds": {"min_price": 7.0, "max_price": 6.0}}, "must be below max_price"),
        ({"bounds": {"max_step": 0}}, "bounds.max_step"),
        ({"bounds": {"max_step": 1.5}}, "bounds.max_step"),
        ({"bounds": {"min_price": -1}}, "bounds.min_price"),
        ({"bounds": {"floor": 1}}, "bounds.floor"),
        ({"current_price": 0}, "current_price"),
        ({"unit_cost": -1}, "unit_cost"),
        ({"elasticity": -100}, "elasticity"),
        ({"strategy": "clearance", "clearance_days": 10}, "needs the stock"),
        ({"strategy": "clearance", "stock": 10}, "needs clearance_days"),
    ],
)
def test_optimize_bad_bounds_and_inputs_are_422(client, change, words):
    response = client.post(OPTIMIZE, json={**EXPLICIT, **change}, headers=READER)
    assert response.status_code == 422, response.text
    assert response.json()["name"] == "validation_error" and words in response.json()["message"]


# -- no data yet ---------------------------------------------------------------------------------
def test_no_pricing_data_is_a_503_that_says_what_to_run(tmp_path):
    missing = tmp_path / "never" / "pricing.db"
    with pricing_app(f"sqlite:///{missing}") as client:
        for path in (RECS, "/v1/pricing/elasticity/A_1", "/v1/inventory/reorder-points"):
            response = client.get(path, headers=READER)
            assert response.status_code == 503, path
            assert response.json()["name"] == "no_pricing_data"
            assert "materialise" in response.json()["message"]
        assert client.post(OPTIMIZE, json=EXPLICIT, headers=READER).status_code == 200
    assert not missing.exists()  # the service never creates the store

    empty = PricingStore(f"sqlite:///{tmp_path / 'empty.db'}")  # tables, no batch
    with pricing_app(empty.url) as client:
        response = client.get(RECS, headers=READER)
        assert response.status_code == 503 and "price_recommendations" in response.json()["message"]
        assert client.get("/v1/inventory/reorder-points", headers=READER).status_code == 503
        assert client.post(OPTIMIZE, json={"item_id": "A_1"}, headers=READER).status_code == 503
    empty.dispose()


# -- settings -------------------------------------------------------------------------------------
@pytest.fixture
def clean_env(monkeypatch):
    for name in ("RETAILIQ_PRICING_DB_URL", "RETAILIQ_SERVING_PRICING_DB_URL", "RETAILIQ_DATA_DIR",
                 "RETAILIQ_SERVING_DATA_DIR"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_default_pricing_store_is_the_assets(tmp_path, clean_env, monkeypatch):
    from orchestration.settings import Settings  # the Dagster side, only to compare with

    assert (
        ServingSettings(_env_file=None, data_dir=tmp_path).pricing_url
        == Settings(data_dir=tmp_path).pricing_url
    )
    assert ServingSettings(_env_file=None).pricing_url == Settings().pricing_url
    assert Path(
        ServingSettings(_env_file=None).pricing_url.removeprefix("sqlite:///")
    ).is_absolute()
    monkeypatch.setenv("RETAILIQ_PRICING_DB_URL", "postgresql://db/pricing")
    assert ServingSettings(_env_file=None).pricing_url == "postgresql://db/pricing"
    monkeypatch.setenv("RETAILIQ_SERVING_PRICING_DB_URL", "sqlite:///serving.db")
    assert ServingSettings(_env_file=None).pricing_url == "sqlite:///serving.db"
