import uuid
from datetime import timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from ml.pricing.store import PricingStore, StatusError

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'pricing.db'}"
        yield PricingStore(url)
        return
    schema = f"pricing_{uuid.uuid4().hex[:8]}"  # a fresh schema per test, dropped after
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:  # fails (never skips) when the server is missing
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    store = PricingStore(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    yield store
    store.dispose()
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _batch(prices=(5.5, 2.2)):
    return pd.DataFrame(
        {
            "unique_id": ["CA_1__A_1", "CA_1__B_1"],
            "store_id": "CA_1",
            "item_id": ["A_1", "B_1"],
            "strategy": "profit",
            "current_price": [5.0, 2.0],
            "recommended_price": list(prices),
            "change_pct": [10.0, 10.0],
            "expected_profit": [12.0, 3.0],
            "confidence": [0.9, 0.4],
            "reasoning": ["profit: x", "profit: y"],
            "elasticity": [-2.0, -0.8],
        }
    )


def test_accept_and_reject_keep_an_audit_trail(store):
    assert store.save_recommendations(_batch(), "b1") == 2
    pending = store.list_recommendations(status="pending")
    assert len(pending) == 2
    first, second = pending["id"].tolist()
    accepted = store.set_status(first, "accepted", "manager@shop", note="ok")
    assert accepted["status"] == "accepted" and accepted["status_by"] == "manager@shop"
    store.set_status(second, "rejected", "admin@shop")
    with pytest.raises(StatusError, match="accepted, not pending"):
        store.set_status(first, "rejected", "someone")  # a decision is final
    with pytest.raises(StatusError, match="no recommendation"):
        store.set_status(99999, "accepted", "manager@shop")
    with pytest.raises(StatusError):
        store.set_status(second, "approved", "manager@shop")
    trail = store.history(first)
    assert trail["to_status"].tolist() == ["pending", "accepted"]
    assert trail["actor"].tolist() == ["system", "manager@shop"]
    assert trail["at"].notna().all()


def test_a_new_batch_expires_pending_ones_but_keeps_them(store):
    store.save_recommendations(_batch(), "b1")
    first = int(store.list_recommendations()["id"].iloc[0])
    store.set_status(first, "accepted", "manager@shop")
    store.save_recommendations(_batch((5.4, 2.1)), "b2")
    latest = store.list_recommendations()
    assert set(latest["batch_id"]) == {"b2"} and (latest["status"] == "pending").all()
    everything = store.list_recommendations(latest_batch=False)
    assert len(everything) == 4
    old = everything[everything["batch_id"] == "b1"].set_index("item_id")["status"]
    assert old.to_dict() == {"A_1": "accepted", "B_1": "expired"}  # a decision stays


def test_the_validity_window_expires_pending_recommendations(store):
    store.save_recommendations(_batch(), "b1", valid_days=1)
    rec_id = int(store.list_recommendations()["id"].iloc[0])
    later = store.get_recommendation(rec_id)["valid_until"] + timedelta(seconds=1)
    assert store.expire_stale(now=later) == 2
    with pytest.raises(StatusError, match="expired"):
        store.set_status(rec_id, "accepted", "manager@shop")
    assert store.history(rec_id)["note"].iloc[-1] == "validity window ended"


def test_elasticities_and_reorder_points_read_back_the_newest_batch(store):
    table = pd.DataFrame(
        {"item_id": ["A_1", "B_1"], "elasticity": [-2.0, -1.0], "method": ["shrunk", "pooled"]}
    )
    store.save_elasticities(table, "e1")
    store.save_elasticities(table.assign(elasticity=[-2.5, -1.5]), "e2")
    assert store.read_elasticities()["elasticity"].tolist() == [-2.5, -1.5]
    assert store.read_elasticities("B_1")["method"].tolist() == ["pooled"]
    points = pd.DataFrame(
        {
            "store_id": "CA_1",
            "item_id": ["A_1", "B_1"],
            "reorder_point": [10.0, 3.0],
            "stockout_alert": [True, False],
        }
    )
    store.save_reorder_points(points, "r1")
    assert store.read_reorder_points(alerts_only=True)["item_id"].tolist() == ["A_1"]


def test_alerts_of_a_store_without_reorder_points_are_empty(tmp_path):
    store = PricingStore(f"sqlite:///{tmp_path / 'empty.db'}")
    assert store.read_reorder_points(alerts_only=True).empty
