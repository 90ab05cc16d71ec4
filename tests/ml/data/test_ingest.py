import json
import shutil

import pandas as pd
import pytest

from ml.data.ingest import ingest_pending, new_files
from ml.data.lake import Lake
from ml.data.landing import LocalFolderSource

GOOD_SALES = (
    b"date,store_id,item_id,units,price\n2024-01-01,CA_1,FOODS_1_001,3,2.5\n"
    b"2024-01-02,CA_1,FOODS_1_001,0,2.5\n"
)
CALENDAR = b"date,event_name_1,event_type_1,snap_CA\n2024-01-01,NewYear,National,1\n"

BAD_FILES = {
    "wrong_columns.csv": (b"when,shop,sku,qty\n2024-01-01,A,B,1\n", "unknown_layout"),
    "bad_numbers.csv": (
        b"date,store_id,item_id,units\n2024-01-01,A,B,lots\n",
        "unparseable_numbers",
    ),
    "bad_dates.csv": (b"date,store_id,item_id,units\n01/13/2024x,A,B,1\n", "unparseable_dates"),
    "negative.csv": (b"date,store_id,item_id,units\n2024-01-01,A,B,-3\n", "negative_units"),
    "dupes.csv": (
        b"date,store_id,item_id,units\n2024-01-01,A,B,1\n2024-01-01,A,B,2\n",
        "duplicate_keys",
    ),
    "empty.csv": (b"", "empty_file"),
    "latin1.csv": (
        "date,store_id,item_id,units\n2024-01-01,Caf\xe9,B,1\n".encode("latin-1"),
        "wrong_encoding",
    ),
    "actually_zip.csv": (b"PK\x03\x04\x14\x00\x00\x00binary", "not_csv"),
    "zero_price.csv": (b"date,store_id,item_id,price\n2024-01-01,A,B,0\n", "non_positive_price"),
    "ancient.csv": (b"date,store_id,item_id,units\n1970-01-01,A,B,1\n", "dates_out_of_range"),
}


@pytest.fixture
def zone(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    return LocalFolderSource(landing, tmp_path / "quarantine"), Lake(tmp_path / "lake")


def test_good_files_land_once_and_again_adds_nothing(zone):
    source, lake = zone
    (source.folder / "sales.csv").write_bytes(GOOD_SALES)
    (source.folder / "calendar.csv").write_bytes(CALENDAR)
    first = ingest_pending(source, lake)
    assert [f.kind for f in first.ingested] == ["calendar", "sales"]  # calendars land first
    (source.folder / "sales_copy.csv").write_bytes(GOOD_SALES)  # same bytes, new name
    second = ingest_pending(source, lake)
    assert second.ingested == []
    assert sorted(second.already_ingested) == ["calendar.csv", "sales.csv", "sales_copy.csv"]
    assert len(lake.read_table("sales")) == 2
    assert new_files(source, lake) == {}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_is_quarantined_with_a_reason_and_good_files_still_land(zone, name):
    source, lake = zone
    payload, code = BAD_FILES[name]
    (source.folder / "sales.csv").write_bytes(GOOD_SALES)
    (source.folder / name).write_bytes(payload)
    report = ingest_pending(source, lake)
    assert [f.key for f in report.ingested] == ["sales.csv"]
    assert [(q.key, q.code) for q in report.quarantined] == [(name, code)]
    moved = list(source.quarantine_folder.glob(f"*__{name}"))
    assert len(moved) == 1 and moved[0].read_bytes() == payload  # nothing lost
    reason = json.loads(moved[0].with_name(moved[0].name + ".reason.json").read_text())
    assert reason["code"] == code and reason["file"] == name and reason["message"]
    assert not (source.folder / name).exists()
    assert lake.quarantine_log()["code"].tolist() == [code]


def test_m5_files_wait_for_their_calendar(zone, tmp_path):
    source, lake = zone
    (source.folder / "sales_train_validation.csv").write_bytes(
        b"id,item_id,dept_id,cat_id,store_id,state_id,d_1,d_2\n"
        b"X_1_1_CA_1_validation,X_1_1,X_1,X,CA_1,CA,0,4\n"
    )
    report = ingest_pending(source, lake)
    assert report.deferred == ["sales_train_validation.csv"] and report.ingested == []
    (source.folder / "calendar.csv").write_bytes(
        b"date,wm_yr_wk,weekday,d,event_name_1,snap_CA\n"
        b"2011-01-29,11101,Saturday,d_1,,0\n2011-01-30,11101,Sunday,d_2,,1\n"
    )
    report = ingest_pending(source, lake)
    assert sorted(f.kind for f in report.ingested) == ["calendar", "m5_sales_wide"]
    sales = lake.read_table("sales")
    assert sales["units"].tolist() == [0.0, 4.0]


def test_parquet_long_sales_are_accepted(zone):
    source, lake = zone
    frame = pd.DataFrame(
        {
            "item_id": ["X_1_1"],
            "store_id": ["CA_1"],
            "dept_id": ["X_1"],
            "cat_id": ["X"],
            "date": pd.to_datetime(["2024-01-01"]),
            "units": [3],
        }
    )
    frame.to_parquet(source.folder / "daily.parquet")
    report = ingest_pending(source, lake)
    assert [f.kind for f in report.ingested] == ["sales"]
    assert lake.read_table("sales")["dept_id"].tolist() == ["X_1"]


def test_quarantine_keeps_same_named_bad_files_apart(zone):
    source, lake = zone
    (source.folder / "x.csv").write_bytes(b"nonsense\n1\n")
    ingest_pending(source, lake)
    (source.folder / "x.csv").write_bytes(b"other,nonsense\n1,2\n")
    ingest_pending(source, lake)
    assert len(list(source.quarantine_folder.glob("*__x.csv"))) == 2
    shutil.rmtree(source.quarantine_folder)
