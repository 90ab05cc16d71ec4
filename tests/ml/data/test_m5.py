"""The real M5 subset goes through the same landing zone as any retailer's files."""

import shutil

import pytest

from ml.data.history import build_sales_history
from ml.data.ingest import ingest_pending
from ml.data.lake import Lake
from ml.data.landing import LocalFolderSource
from ml.data.m5 import load_m5_sales_history

pytestmark = pytest.mark.m5


@pytest.mark.slow
def test_every_m5_file_ingests_and_builds_a_history(m5_dir, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(m5_dir, landing, ignore=shutil.ignore_patterns("*.md"))
    lake = Lake(tmp_path / "lake")
    report = ingest_pending(LocalFolderSource(landing, tmp_path / "q"), lake)
    assert report.quarantined == [] and report.deferred == []
    kinds = {f.key: f.kind for f in report.ingested}
    assert kinds["calendar.parquet"] == "calendar"
    assert kinds["sell_prices.parquet"] == "m5_prices"
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
