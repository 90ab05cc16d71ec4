import json
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from ml.data.cells import IngestLimits
from ml.data.history import build_sales_history
from ml.data.ingest import checksum_of, ingest_pending, new_files
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
    "fractional.csv": (b"date,store_id,item_id,units\n2024-01-01,A,B,0.5\n", "fractional_units"),
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
    "no_keys.csv": (b"date,store_id,item_id,units\n2024-01-01,,B,1\n", "missing_keys"),
    "sales.xlsx": (b"PK\x03\x04 a spreadsheet", "unsupported_format"),
}


@pytest.fixture
def zone(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    return LocalFolderSource(landing, tmp_path / "quarantine"), Lake(tmp_path / "lake")


def _sales_lines(n: int, start: str = "2024-01-01", item: str = "FOODS_1_001") -> list[bytes]:
    days = pd.date_range(start, periods=n)
    return [f"{d:%Y-%m-%d},CA_1,{item},{i % 5},2.5".encode() for i, d in enumerate(days)]


def _file(lines: list[bytes], header=b"date,store_id,item_id,units,price") -> bytes:
    return b"\n".join([header, *lines]) + b"\n"


def _ingest_sales(zone, lines: list[bytes], name="pos.csv", limits: IngestLimits | None = None):
    """Drop one sales CSV of ``lines`` into the landing zone and ingest it: its one outcome."""
    source, lake = zone
    (source.folder / name).write_bytes(_file(lines))
    [outcome] = ingest_pending(source, lake, limits).outcomes
    return outcome


def _negative_prices(lines: list[bytes], rows: tuple[int, ...]) -> list[bytes]:
    """``lines`` with the price of ``rows`` made -1 (rejected rows)."""
    return [line.replace(b",2.5", b",-1", 1) if i in rows else line for i, line in enumerate(lines)]


def test_good_files_land_once_and_again_adds_nothing(zone):
    source, lake = zone
    (source.folder / "sales.csv").write_bytes(GOOD_SALES)
    (source.folder / "calendar.csv").write_bytes(CALENDAR)
    first = ingest_pending(source, lake)
    assert [(o.layout, o.status) for o in first.outcomes] == [
        ("calendar", "ingested"),  # calendars land first
        ("sales", "ingested"),
    ]
    assert first.outcomes[1].rows_in == first.outcomes[1].rows_landed == 2
    (source.folder / "sales_copy.csv").write_bytes(GOOD_SALES)  # same bytes, new name
    second = ingest_pending(source, lake)
    assert second.ingested == []
    assert sorted(o.key for o in second.with_status("already_ingested")) == [
        "calendar.csv",
        "sales.csv",
        "sales_copy.csv",
    ]
    assert len(lake.read_table("sales")) == 2
    assert new_files(source, lake) == {}


def test_the_same_content_twice_in_one_batch_lands_once(zone):
    source, lake = zone
    (source.folder / "a.csv").write_bytes(GOOD_SALES)
    (source.folder / "b.csv").write_bytes(GOOD_SALES)
    report = ingest_pending(source, lake)
    assert sorted(o.status for o in report.outcomes) == ["already_ingested", "ingested"]
    assert len(lake.ledger()) == 1


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_is_quarantined_with_a_reason_and_good_files_still_land(zone, name):
    source, lake = zone
    payload, code = BAD_FILES[name]
    (source.folder / "sales.csv").write_bytes(GOOD_SALES)
    (source.folder / name).write_bytes(payload)
    report = ingest_pending(source, lake)
    assert [o.key for o in report.ingested] == ["sales.csv"]
    assert [(q.key, q.code) for q in report.quarantined] == [(name, code)]
    moved = list(source.quarantine_folder.glob(f"*__{name}"))
    assert len(moved) == 1 and moved[0].read_bytes() == payload  # nothing lost
    reason = json.loads(moved[0].with_name(moved[0].name + ".reason.json").read_text())
    assert reason["code"] == code and reason["file"] == name and reason["message"]
    assert not (source.folder / name).exists()
    assert lake.quarantine_log()["code"].tolist() == [code]


def test_a_file_with_a_few_bad_rows_lands_its_good_rows_and_quarantines_the_rest(zone):
    source, lake = zone
    lines = _sales_lines(10)
    lines[3] = b"2024-01-04,CA_1,FOODS_1_001,2.5,2.5"
    lines[7] = b"2024-01-08,,FOODS_1_001,1,2.5"
    outcome = _ingest_sales(zone, lines)
    assert outcome.status == "partially_ingested"
    assert (outcome.rows_in, outcome.rows_landed, outcome.rows_rejected) == (10, 8, 2)
    assert outcome.rejected_by_code == {"fractional_units": 1, "missing_keys": 1}
    landed = lake.read_table("sales")
    assert len(landed) == 8 and pd.Timestamp("2024-01-04") not in set(landed["date"])
    rejected = pd.read_csv(outcome.moved_to, dtype=str, keep_default_na=False)
    assert rejected[["line", "code", "column", "value"]].values.tolist() == [
        ["5", "fractional_units", "units", "2.5"],
        ["9", "missing_keys", "store_id", ""],
    ]
    assert rejected["item_id"].tolist() == ["FOODS_1_001", "FOODS_1_001"]  # the row itself
    assert (source.folder / "pos.csv").exists()  # the file stays: its good rows landed
    reason_file = outcome.moved_to.removesuffix(".rejected.csv") + ".reason.json"
    reason = json.loads(Path(reason_file).read_text())
    assert reason["outcome"] == "partially_ingested" and reason["rows_rejected"] == 2
    ledger = lake.ledger().iloc[0]
    assert (ledger["rows"], ledger["rows_in"], ledger["rows_rejected"]) == (8, 10, 2)
    assert json.loads(ledger["rejected_by_code"]) == outcome.rejected_by_code


def test_a_mostly_bad_file_is_quarantined_whole_with_its_bad_rows_listed(zone):
    source, lake = zone
    outcome = _ingest_sales(zone, _negative_prices(_sales_lines(10), (1, 2, 5)))
    assert outcome.status == "quarantined" and outcome.code == "non_positive_price"
    assert (outcome.rows_in, outcome.rows_landed, outcome.rows_rejected) == (10, 0, 3)
    assert "30%" in outcome.message and "20%" in outcome.message
    assert lake.read_table("sales") is None
    rows = next(source.quarantine_folder.glob("*pos.csv.rejected.csv"))
    assert pd.read_csv(rows)["line"].tolist() == [3, 4, 7]


def test_the_bad_row_share_limit_is_a_setting(zone):
    lines = _negative_prices(_sales_lines(10), (1, 2, 5))
    outcome = _ingest_sales(zone, lines, limits=replace(IngestLimits(), max_bad_row_share=0.5))
    assert outcome.status == "partially_ingested" and outcome.rows_landed == 7


def test_returns_are_kept_as_net_units_and_floored_for_the_models(zone):
    _, lake = zone
    lines = _sales_lines(30)
    lines[4] = b"2024-01-05,CA_1,FOODS_1_001,-2,2.5"
    outcome = _ingest_sales(zone, lines, name="store_export.csv")
    assert outcome.status == "ingested" and outcome.returns_rows == 1
    sales = lake.read_table("sales")
    assert sales.loc[sales["date"] == "2024-01-05", "units"].tolist() == [-2.0]
    history = build_sales_history(sales)
    assert history["y"].min() == 0.0


def test_every_file_gets_exactly_one_outcome_whatever_its_name(zone):
    source, lake = zone
    names = [
        ".hidden_sales.csv",
        "with space.csv",
        "100% sales.csv",
        "ünï-cødé.csv",
        "x" * 200 + ".csv",
    ]
    for i, name in enumerate(names):
        (source.folder / name).write_bytes(_file(_sales_lines(3, item=f"ITEM_{i}")))
    (source.folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (source.folder / "upload.csv.part").write_bytes(GOOD_SALES[:20])
    (source.folder / "notes.docx").write_bytes(b"PK\x03\x04")
    report = ingest_pending(source, lake)
    status = {o.key: o.status for o in report.outcomes}
    assert len(report.outcomes) == len(status) == len(names) + 3
    assert all(status[n] == "ingested" for n in names)
    assert status[".DS_Store"] == status["upload.csv.part"] == "skipped"
    assert status["notes.docx"] == "quarantined"
    assert lake.read_table("sales")["item_id"].nunique() == len(names)


def test_m5_files_wait_for_their_calendar(zone):
    source, lake = zone
    (source.folder / "sales_train_validation.csv").write_bytes(
        b"id,item_id,dept_id,cat_id,store_id,state_id,d_1,d_2\n"
        b"X_1_1_CA_1_validation,X_1_1,X_1,X,CA_1,CA,0,4\n"
    )
    report = ingest_pending(source, lake)
    assert [o.status for o in report.outcomes] == ["deferred"] and report.ingested == []
    (source.folder / "calendar.csv").write_bytes(
        b"date,wm_yr_wk,weekday,d,event_name_1,snap_CA\n"
        b"2011-01-29,11101,Saturday,d_1,,0\n2011-01-30,11101,Sunday,d_2,,1\n"
    )
    report = ingest_pending(source, lake)
    assert sorted(o.layout for o in report.ingested) == ["calendar", "m5_sales_wide"]
    assert lake.read_table("sales")["units"].tolist() == [0.0, 4.0]


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
    assert [o.layout for o in report.ingested] == ["sales"]
    assert lake.read_table("sales")["dept_id"].tolist() == ["X_1"]


M5_CALENDAR = (
    b"date,wm_yr_wk,weekday,wday,month,year,d,event_name_1,event_type_1,event_name_2,"
    b"event_type_2,snap_CA,snap_TX,snap_WI\n"
    b"2024-01-01,12401,Monday,3,1,2024,d_1,NewYear,National,,,1,0,1\n"
    b"2024-01-02,12401,Tuesday,4,1,2024,d_2,,,,,0,1,1\n"
    b"2024-01-08,12402,Monday,3,1,2024,d_8,,,,,0,0,0\n"
)
FLAT_EVENTS = b"date,event_name,event_type,snap\n2024-01-02,Sale,Promo,1\n2024-01-03,,,1\n"


def _two_store_sales(days: int = 9) -> bytes:
    rows = [
        f"{d:%Y-%m-%d},{store},FOODS_1_001,1".encode()
        for d in pd.date_range("2024-01-01", periods=days)
        for store in ("CA_1", "TX_1")
    ]
    return _file(rows, header=b"date,store_id,item_id,units")


def _history(lake: Lake) -> pd.DataFrame:
    return build_sales_history(
        *(lake.read_table(t) for t in ("sales", "prices", "calendar", "products"))
    )


@pytest.mark.parametrize("flat_first", [True, False])
def test_flat_and_m5_calendars_merge_by_column_and_snap_survives(zone, flat_first):
    source, lake = zone
    order = [("events.csv", FLAT_EVENTS), ("calendar.csv", M5_CALENDAR)]
    for name, payload in order if flat_first else order[::-1]:
        (source.folder / name).write_bytes(payload)
        ingest_pending(source, lake)
    (source.folder / "sales.csv").write_bytes(_two_store_sales())
    (source.folder / "prices.csv").write_bytes(
        b"store_id,item_id,wm_yr_wk,sell_price\nCA_1,FOODS_1_001,12401,2.0\nTX_1,FOODS_1_001,12402,3.0\n"
    )
    report = ingest_pending(source, lake)
    assert sorted((o.key, o.status) for o in report.ingested) == [
        ("prices.csv", "ingested"),
        ("sales.csv", "ingested"),
    ]
    history = _history(lake).set_index(["store_id", "ds"])
    day = pd.Timestamp
    assert history.loc[("CA_1", day("2024-01-01")), "snap"] == 1  # snap_CA
    assert history.loc[("TX_1", day("2024-01-01")), "snap"] == 0  # snap_TX
    assert history.loc[("TX_1", day("2024-01-03")), "snap"] == 1  # store-wide snap
    assert history.loc[("CA_1", day("2024-01-01")), "event_name_1"] == "NewYear"
    assert history.loc[("CA_1", day("2024-01-03")), "event_name_1"] is None
    # Both files carry the events of 2024-01-02: the one that landed later wins.
    expected = None if flat_first else "Sale"
    assert history.loc[("CA_1", day("2024-01-02")), "event_name_1"] == expected
    assert history.loc[("TX_1", day("2024-01-08")), "sell_price"] == 3.0


def test_lower_cased_state_columns_still_match_their_stores(zone):
    source, lake = zone
    (source.folder / "calendar.csv").write_bytes(
        b"date,snap_ca,SNAP_tx\n2024-01-01,1,0\n2024-01-02,0,1\n"
    )
    (source.folder / "sales.csv").write_bytes(_two_store_sales(2))
    ingest_pending(source, lake)
    history = _history(lake)
    assert history.groupby("store_id")["snap"].sum().to_dict() == {"CA_1": 1, "TX_1": 1}


def test_price_lists_by_week_start_date(zone):
    source, lake = zone
    (source.folder / "prices.csv").write_bytes(
        b"week_start,store_id,item_id,price\n2024-01-01,CA_1,FOODS_1_001,2.0\n"
        b"2024-01-08,CA_1,FOODS_1_001,2.5\n"
    )
    lines = [line.rsplit(b",", 1)[0] for line in _sales_lines(10)]
    (source.folder / "sales.csv").write_bytes(_file(lines, header=b"date,store_id,item_id,units"))
    ingest_pending(source, lake)
    history = _history(lake)
    assert history["sell_price"].tolist() == [2.0] * 7 + [2.5] * 3


def test_quarantine_keeps_same_named_bad_files_apart(zone):
    source, lake = zone
    (source.folder / "x.csv").write_bytes(b"nonsense\n1\n")
    ingest_pending(source, lake)
    (source.folder / "x.csv").write_bytes(b"other,nonsense\n1,2\n")
    ingest_pending(source, lake)
    assert len(list(source.quarantine_folder.glob("*__x.csv"))) == 2
    shutil.rmtree(source.quarantine_folder)


def test_a_week_keyed_price_file_lands_after_a_calendar_without_weeks_merged_in(zone):
    """A calendar-shaped file without wm_yr_wk once erased the M5 calendar's weeks."""
    source, lake = zone
    (source.folder / "calendar.csv").write_bytes(M5_CALENDAR)
    ingest_pending(source, lake)
    (source.folder / "holidays.csv").write_bytes(
        b"date,event_name_1,event_type_1\n2024-01-01,NY,National\n2024-01-02,,\n2024-01-08,,\n"
    )
    ingest_pending(source, lake)
    (source.folder / "prices.csv").write_bytes(
        b"store_id,item_id,wm_yr_wk,sell_price\nCA_1,X,12401,2.0\nCA_1,X,12402,2.1\n"
    )
    [outcome] = ingest_pending(source, lake).ingested
    assert outcome.status == "ingested" and outcome.rows_landed == 2


def test_rejected_rows_csv_round_trips_odd_values(zone):
    lines = _sales_lines(10)
    lines[2] = b'2024-01-03,CA_1,"FOODS,\n""odd""",x,2.5'
    outcome = _ingest_sales(zone, lines)
    rejected = pd.read_csv(outcome.moved_to, dtype=str, keep_default_na=False)
    assert rejected["item_id"].tolist() == ['FOODS,\n"odd"']
    assert rejected["line"].tolist() == ["4"]


def _reason_beside(source, name: str) -> dict:
    [reason] = source.quarantine_folder.glob(f"*__{name}.reason.json")
    return json.loads(reason.read_text())


def test_a_file_held_back_whole_says_why_in_full(zone):
    source, _ = zone
    lines = _negative_prices(_sales_lines(5), (1, 2))
    lines[3] = b"2024-01-04,CA_1,FOODS_1_001,2.5,2.5"
    payload = _file(lines)
    outcome = _ingest_sales(zone, lines)
    assert outcome.status == "quarantined"
    message = (
        "3 of 5 rows (60%) are bad, above the 20% limit, so the file is held back whole: "
        "non_positive_price 2, fractional_units 1"
    )
    assert outcome.message == message
    assert _reason_beside(source, "pos.csv") == {
        "file": "pos.csv",
        "checksum": checksum_of(payload),
        "outcome": "quarantined",
        "code": "non_positive_price",
        "message": message,
        "details": {
            "rows_in": 5,
            "rejected_by_code": {"non_positive_price": 2, "fractional_units": 1},
            "rows": [
                {"line": 3, "code": "non_positive_price", "column": "price", "value": "-1"},
                {"line": 4, "code": "non_positive_price", "column": "price", "value": "-1"},
                {"line": 5, "code": "fractional_units", "column": "units", "value": "2.5"},
            ],
        },
    }


def test_a_one_row_file_with_its_row_bad_is_all_bad(zone):
    outcome = _ingest_sales(zone, _negative_prices(_sales_lines(1), (0,)))
    assert outcome.status == "quarantined"
    assert outcome.message.startswith("1 of 1 rows (100%) are bad")


def test_a_partly_landed_file_says_what_landed_and_what_did_not(zone):
    source, _ = zone
    lines = _sales_lines(10)
    lines[3] = b"2024-01-04,CA_1,FOODS_1_001,2.5,2.5"
    outcome = _ingest_sales(zone, lines)
    reason = json.loads(
        Path(outcome.moved_to.removesuffix(".rejected.csv") + ".reason.json").read_text()
    )
    assert reason == {
        "file": "pos.csv",
        "checksum": checksum_of(_file(lines)),
        "outcome": "partially_ingested",
        "layout": "sales",
        "rows_in": 10,
        "rows_landed": 9,
        "rows_rejected": 1,
        "rejected_by_code": {"fractional_units": 1},
        "first_rejected": [
            {"line": 5, "code": "fractional_units", "column": "units", "value": "2.5"}
        ],
    }


def test_an_unknown_layout_names_the_columns_and_the_renames(zone):
    source, lake = zone
    (source.folder / "odd.csv").write_bytes(b"day,shop,sku,qty\n2024-01-01,A,B,1\n")
    [outcome] = ingest_pending(source, lake).outcomes
    reason = _reason_beside(source, "odd.csv")
    assert reason["code"] == outcome.code == "unknown_layout"
    assert reason["message"] == outcome.message and "rename: day -> date" in reason["message"]
    assert reason["details"]["columns"] == ["day", "shop", "sku", "qty"]
    assert reason["details"]["rename_hints"] == {
        "day": "date",
        "shop": "store_id",
        "sku": "item_id",
        "qty": "units",
    }


def test_new_files_are_the_unseen_ones_that_are_not_skipped(zone):
    source, lake = zone
    (source.folder / "sales.csv").write_bytes(GOOD_SALES)
    (source.folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    assert new_files(source, lake) == {"sales.csv": checksum_of(GOOD_SALES)}


def test_the_rejected_rows_file_lists_malformed_rows_too_in_line_order(zone):
    source, lake = zone
    lines = _sales_lines(12)
    lines[2] = b"2024-01-03,CA_1,FOODS_1_001,1,2.5,surplus"  # a field too many
    lines[6] = b"2024-01-07,CA_1,FOODS_1_001,1.5,2.5"
    outcome = _ingest_sales(zone, lines)
    assert outcome.status == "partially_ingested"
    assert outcome.rejected_by_code == {"fractional_units": 1, "malformed_row": 1}
    text = Path(outcome.moved_to).read_text()
    assert text.splitlines()[0].split(",")[:4] == ["line", "code", "column", "value"]
    rejected = pd.read_csv(outcome.moved_to, dtype=str, keep_default_na=False)
    assert list(rejected.columns[:4]) == ["line", "code", "column", "value"]
    assert "Unnamed: 0" not in rejected.columns  # no index column
    assert rejected[["line", "code", "column"]].values.tolist() == [
        ["4", "malformed_row", ""],
        ["8", "fractional_units", "units"],
    ]
    # the malformed record verbatim, line end included
    assert rejected["value"].iloc[0] == "2024-01-03,CA_1,FOODS_1_001,1,2.5,surplus\n"


def test_reasons_list_the_first_five_rejected_rows(zone):
    lines = _negative_prices(_sales_lines(40), (1, 3, 5, 7, 9, 11))
    outcome = _ingest_sales(zone, lines)
    reason = json.loads(
        Path(outcome.moved_to.removesuffix(".rejected.csv") + ".reason.json").read_text()
    )
    assert [row["line"] for row in reason["first_rejected"]] == [3, 5, 7, 9, 11]
    assert len(pd.read_csv(outcome.moved_to)) == 6  # the rows file has them all


def test_a_quarantined_file_is_logged_with_its_counts_and_details(zone):
    source, lake = zone
    lines = _negative_prices(_sales_lines(5), (1, 2))
    outcome = _ingest_sales(zone, lines)
    assert outcome.checksum == checksum_of(_file(lines))
    assert outcome.moved_to.endswith("__pos.csv") and Path(outcome.moved_to).exists()
    [logged] = lake.quarantine_log().to_dict("records")
    assert logged["code"] == "non_positive_price" and logged["message"] == outcome.message
    assert logged["rows_in"] == 5
    assert json.loads(logged["rejected_by_code"]) == {"non_positive_price": 2}
    assert json.loads(logged["details"])["rows_in"] == 5
    assert outcome.returns_rows == 0


def test_every_outcome_names_its_file_content_and_layout(zone):
    source, lake = zone
    wide = (
        b"id,item_id,dept_id,cat_id,store_id,state_id,d_1,d_2\nX_1_1_CA_1,X_1_1,X_1,X,CA_1,CA,0,4\n"
    )
    (source.folder / "sales.csv").write_bytes(GOOD_SALES)
    (source.folder / "wide.csv").write_bytes(wide)
    first = {o.key: o for o in ingest_pending(source, lake).outcomes}
    deferred = first["wide.csv"]
    assert (deferred.status, deferred.checksum, deferred.layout) == (
        "deferred",
        checksum_of(wide),
        "m5_sales_wide",
    )
    assert "calendar" in deferred.message
    assert first["sales.csv"].returns_rows == 0
    (source.folder / "calendar.csv").write_bytes(CALENDAR)
    second = {o.key: o for o in ingest_pending(source, lake).outcomes}
    again = second["sales.csv"]
    assert (again.status, again.checksum) == ("already_ingested", checksum_of(GOOD_SALES))
    assert second["calendar.csv"].returns_rows == 0  # no units column: no returns


class VanishingSource(LocalFolderSource):
    """A landing zone whose file ``gone.csv`` is deleted between listing and reading."""

    def read(self, key: str) -> bytes:
        if key.endswith("gone.csv"):
            raise FileNotFoundError(key)
        return super().read(key)


def test_a_file_removed_before_it_is_read_is_skipped_and_the_rest_land(tmp_path):
    (tmp_path / "landing").mkdir()
    source = VanishingSource(tmp_path / "landing", tmp_path / "quarantine")
    lake = Lake(tmp_path / "lake")
    (source.folder / "a_gone.csv").write_bytes(GOOD_SALES)
    (source.folder / "b_sales.csv").write_bytes(GOOD_SALES.replace(b"2024", b"2023"))
    (source.folder / ".DS_Store").write_bytes(b"\x00")
    outcomes = {o.key: o for o in ingest_pending(source, lake).outcomes}
    assert (outcomes["a_gone.csv"].status, outcomes["a_gone.csv"].message) == (
        "skipped",
        "removed before reading",
    )
    assert outcomes["b_sales.csv"].status == "ingested"
    assert outcomes[".DS_Store"].status == "skipped" and outcomes[".DS_Store"].message


def test_the_ledger_points_at_the_rejected_rows_of_a_file(zone):
    _, lake = zone
    lines = _sales_lines(10)
    lines[3] = b"2024-01-04,CA_1,FOODS_1_001,2.5,2.5"
    outcome = _ingest_sales(zone, lines)
    assert lake.ledger()["rejected_path"].tolist() == [outcome.moved_to]
    rejected = pd.read_csv(outcome.moved_to, dtype=str, keep_default_na=False)
    assert list(rejected.columns) == [
        "line",
        "code",
        "column",
        "value",
        "date",
        "store_id",
        "item_id",
        "units",
        "price",
    ]


def test_each_file_is_logged_with_its_outcome(zone, caplog):
    source, lake = zone
    (source.folder / "sales.csv").write_bytes(GOOD_SALES)
    (source.folder / "odd.csv").write_bytes(b"day,shop\n2024-01-01,A\n")
    with caplog.at_level("INFO", logger="ml.data.ingest"):
        report = ingest_pending(source, lake)
    messages = [r.getMessage() for r in caplog.records if r.name == "ml.data.ingest"]
    [moved] = [o.moved_to for o in report.quarantined]
    assert "ingested sales.csv as sales: 2 rows landed, 0 rejected" in messages
    assert any(m.startswith(f"quarantined odd.csv -> {moved}: unknown_layout: ") for m in messages)


def test_a_clean_file_leaves_nothing_in_quarantine_and_no_rejected_path(zone):
    source, lake = zone
    outcome = _ingest_sales(zone, _sales_lines(5))
    assert outcome.status == "ingested" and outcome.moved_to is None
    assert not source.quarantine_folder.exists() or not any(source.quarantine_folder.iterdir())
    assert lake.ledger()["rejected_path"].isna().all()


def test_the_second_copy_in_one_batch_names_itself(zone):
    source, lake = zone
    (source.folder / "a.csv").write_bytes(GOOD_SALES)
    (source.folder / "b.csv").write_bytes(GOOD_SALES)
    outcomes = {o.key: o for o in ingest_pending(source, lake).outcomes}
    assert (outcomes["b.csv"].status, outcomes["b.csv"].checksum) == (
        "already_ingested",
        checksum_of(GOOD_SALES),
    )
