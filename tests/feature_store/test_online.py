"""Online store: the same behaviour from SQLite, Redis and PostgreSQL.

Redis and PostgreSQL tests use the local servers (127.0.0.1:6379, 127.0.0.1:5432 database
``test``) and fail, not skip, when those are missing. Every test works in its own namespace and
drops it afterwards, so parallel runs do not collide and nothing is left behind.
"""

from __future__ import annotations

import time
import uuid

import numpy as np
import pandas as pd
import pytest

from feature_store.build import build_features, online_state
from feature_store.definitions import FEATURE_SET_VERSION, FeatureVersionError
from feature_store.online import OnlineStore, open_online_store
from ml.schema import DS, UNIQUE_ID

REDIS_URL = "redis://127.0.0.1:6379/0"
POSTGRES_URL = "postgresql://127.0.0.1:5432/test"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("redis", marks=pytest.mark.redis, id="redis"),
    pytest.param("postgres", marks=pytest.mark.postgres, id="postgres"),
]


def _url(backend: str, tmp_path) -> str:
    return {
        "sqlite": f"sqlite:///{tmp_path / 'online.db'}",
        "redis": REDIS_URL,
        "postgres": POSTGRES_URL,
    }[backend]


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path) -> str:
    return _url(request.param, tmp_path)


@pytest.fixture
def namespace() -> str:
    return f"test_fs_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def store(url, namespace):
    with open_online_store(url, namespace) as opened:
        yield opened
        opened.drop()


@pytest.fixture(scope="module")
def state() -> pd.DataFrame:
    """1,200 series of realistic state rows: three real rows repeated with noise."""
    days = pd.date_range("2016-01-01", periods=90)
    rng = np.random.default_rng(5)
    history = pd.DataFrame(
        {
            UNIQUE_ID: np.repeat(["CA_1__FOODS_1_001", "CA_1__FOODS_1_002"], 90),
            DS: np.tile(days, 2),
            "y": rng.poisson(2.0, 180).astype(float),
            "sell_price": 1.5,
        }
    )
    base = online_state(build_features(history))
    rows = base.iloc[np.arange(1200) % 2].reset_index(drop=True)
    rows[UNIQUE_ID] = [f"S_{i}__ITEM_{i:04d}" for i in range(1200)]
    rows["roll_mean_7"] = rng.random(1200).astype(np.float32)
    return rows


def test_round_trip_keeps_values_and_dtypes(store: OnlineStore, state) -> None:
    assert store.write(state) == len(state)
    back = store.read(state[UNIQUE_ID])
    pd.testing.assert_frame_equal(back, state)
    assert store.ids() == sorted(state[UNIQUE_ID])


def test_read_keeps_the_order_asked_and_skips_unknown_ids(store, state) -> None:
    store.write(state)
    ids = [state[UNIQUE_ID][7], "nope__nothing", state[UNIQUE_ID][3]]
    back = store.read(ids)
    assert back[UNIQUE_ID].tolist() == [ids[0], ids[2]]
    assert back["roll_mean_7"].tolist() == state["roll_mean_7"].iloc[[7, 3]].tolist()
    assert store.read([]).empty and store.read(["nope__nothing"]).empty


def test_read_one_is_a_plain_dict(store, state) -> None:
    store.write(state)
    row = store.read_one(state[UNIQUE_ID][9])
    assert row[UNIQUE_ID] == state[UNIQUE_ID][9]
    assert row[DS] == state[DS][9] and isinstance(row[DS], pd.Timestamp)
    assert isinstance(row["lag_1"], float) and isinstance(row["store_code"], int)
    assert row["roll_mean_7"] == pytest.approx(float(state["roll_mean_7"][9]))
    assert store.read_one("nope__nothing") is None


def test_write_upserts_and_replace_swaps_everything(store, state) -> None:
    store.write(state)
    changed = state.head(2).assign(roll_mean_7=np.float32(42.0))
    store.write(changed)
    assert store.read(state[UNIQUE_ID].head(3))["roll_mean_7"].tolist()[:2] == [42.0, 42.0]
    assert len(store.ids()) == len(state)
    store.write(changed, replace=True)
    assert store.ids() == sorted(changed[UNIQUE_ID])


def test_another_layout_needs_replace_and_is_seen_by_other_readers(url, namespace, state) -> None:
    with open_online_store(url, namespace) as writer, open_online_store(url, namespace) as reader:
        try:
            writer.write(state)
            reader.read(state[UNIQUE_ID].head(5))  # the reader caches the layout
            narrower = state.drop(columns=["lag_364", "roll_std_56"])
            with pytest.raises(ValueError, match="replace=True"):
                writer.write(narrower)
            writer.write(narrower, replace=True)
            back = reader.read(state[UNIQUE_ID].head(5))
            assert "lag_364" not in back and len(back) == 5
            assert reader.read_one(state[UNIQUE_ID][0])["roll_mean_7"] == pytest.approx(
                float(state["roll_mean_7"][0])
            )
        finally:
            writer.drop()


def test_version_is_recorded_and_checked(store, state) -> None:
    assert store.version() is None
    store.write(state)
    assert store.version() == FEATURE_SET_VERSION
    store.check_version()
    store.write(state, replace=True, version="0.0.1+old")
    with pytest.raises(FeatureVersionError, match="0.0.1"):
        store.check_version()


def test_drop_leaves_an_empty_namespace(store, state) -> None:
    store.write(state)
    store.drop()
    assert store.ids() == [] and store.version() is None
    assert store.read(state[UNIQUE_ID].head(3)).empty
    store.write(state.head(2))  # usable again
    assert len(store.ids()) == 2


def test_batch_of_1000_is_fast(store, state) -> None:
    store.write(state)
    ids = state[UNIQUE_ID].sample(1000, random_state=1).tolist()
    store.read(ids)  # warm the connection and statement caches
    started = time.perf_counter()
    back = store.read(ids)
    elapsed = time.perf_counter() - started
    assert back[UNIQUE_ID].tolist() == ids
    assert elapsed < 0.5, f"1,000-series read took {elapsed:.3f}s"


def test_urls_and_namespaces_are_validated(tmp_path) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        open_online_store("mysql://localhost/db")
    with pytest.raises(ValueError, match="sqlite:///"):
        open_online_store("sqlite://relative.db")
    with pytest.raises(ValueError, match="namespace"):
        open_online_store(f"sqlite:///{tmp_path / 'x.db'}", "bad-name; drop table")


def test_frames_with_text_columns_are_refused(tmp_path, state) -> None:
    store = open_online_store(f"sqlite:///{tmp_path / 'x.db'}", "refuse")
    with store, pytest.raises(TypeError, match="numbers and dates"):
        store.write(state.assign(note="text"))
