"""The real M5 subset goes through the same landing zone as any retailer's files."""

import shutil

import pandas as pd
import pytest
from testkit.m5 import load_m5_sales_history

from ml.data.history import build_sales_history
from ml.data.ingest import ingest_pending
from ml.data.lake import Lake
from ml.data.landing import LocalFolderSource

pytestmark = pytest.mark.m5


@pytest.mark.slow
def test_every_m5_file_ingests_and_builds_a_history(m5_dir, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(m5_dir, landing, ignore=shutil.ignore_patterns("*.md"))
    lake = Lake(tmp_path / "lake")
    report = ingest_pending(LocalFolderSource(landing, tmp_path / "q"), lake)
    assert {o.status for o in report.outcomes} == {"ingested"}
    kinds = {f.key: f.layout for f in report.ingested}
    assert kinds["calendar.parquet"] == "calendar"
    assert kinds["sell_prices.parquet"] == "prices_by_week"
    assert kinds["sales_monthly.parquet"] == "sales_monthly"
    assert kinds["sales_daily_recent.parquet"] == "sales"
    history = build_sales_history(
        *(lake.read_table(t) for t in ("sales", "prices", "calendar", "products"))
    )
    # 3,049 CA_1 items plus the 28 items in the 8 other stores.
    assert history["unique_id"].nunique() == 3049 + 28 * 8
    assert len(lake.read_table("sales_monthly")) == 195_136


@pytest.mark.parametrize(("shape", "series", "days"), [("long", 252, 1913), ("short", 3049, 116)])
def test_benchmark_shapes(m5_dir, shape, series, days):
    history = load_m5_sales_history(m5_dir, shape)
    counts = history.groupby("unique_id").size()
    assert len(counts) == series
    assert counts.max() == days
    assert history["sell_price"].gt(0).any()


def test_snap_days_reach_sales_history_per_state_as_in_the_calendar(m5_dir, tmp_path):
    """The M5 calendar's snap_CA/TX/WI flags, after a flat events file with a store-wide snap
    column landed first, reach every store of each state on exactly the calendar's days."""
    landing = tmp_path / "landing"
    landing.mkdir()
    calendar = pd.read_parquet(m5_dir / "calendar.parquet")
    flat = calendar[["date"]].head(60).assign(event_name="Flat", event_type="Promo", snap=1)
    flat.to_csv(landing / "events.csv", index=False)
    shutil.copy(m5_dir / "calendar.parquet", landing / "calendar.parquet")
    sales = pd.read_parquet(m5_dir / "sales_daily_28items_9stores.parquet")
    sales.to_parquet(landing / "sales.parquet")
    lake = Lake(tmp_path / "lake")
    source = LocalFolderSource(landing, tmp_path / "q")
    ingest_pending(source, lake)
    history = build_sales_history(
        *(lake.read_table(t) for t in ("sales", "prices", "calendar", "products"))
    )
    days = pd.to_datetime(calendar["date"])
    in_range = calendar[(days >= history["ds"].min()) & (days <= history["ds"].max())]
    for state in ("CA", "TX", "WI"):
        expected = int(in_range[f"snap_{state}"].sum())
        assert expected > 600
        per_store = (
            history[history["store_id"].str.startswith(state)]
            .groupby(["store_id", "item_id"])["snap"]
            .sum()
        )
        assert set(per_store) == {expected}, state
