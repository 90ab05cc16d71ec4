import pandas as pd
import pytest

from ml.data.parsing import (
    BadFileError,
    CalendarRequiredError,
    detect_kind,
    normalise,
    read_frame,
)

SALES_CSV = b"date,store_id,item_id,units,price\n2024-01-01,CA_1,FOODS_1_001,3,2.5\n"


def test_reads_canonical_sales_and_types_them():
    frame = read_frame("sales.csv", SALES_CSV)
    kind = detect_kind(list(frame.columns))
    out = normalise(kind, frame, None)
    assert kind == "sales"
    assert out["date"].dtype == "datetime64[ns]"
    assert out["units"].tolist() == [3.0]
    assert out["price"].tolist() == [2.5]


def test_header_is_case_and_space_insensitive_and_bom_is_accepted():
    payload = "\ufeffDate, Store_ID ,item_id,UNITS\n2024-01-01,CA_1,X_1_1,1\n".encode()
    assert detect_kind(list(read_frame("s.csv", payload).columns)) == "sales"


@pytest.mark.parametrize(
    ("columns", "kind"),
    [
        (["date", "store_id", "item_id", "price"], "prices"),
        (["date", "event_name_1", "snap_CA"], "calendar"),
        (["item_id", "dept_id", "cat_id", "unit_cost"], "products"),
        (["store_id", "item_id", "wm_yr_wk", "sell_price"], "m5_prices"),
        (
            ["id", "item_id", "dept_id", "cat_id", "store_id", "state_id", "d_1", "d_2"],
            "m5_sales_wide",
        ),
        (["item_id", "store_id", "month_start", "n_days", "units"], "sales_monthly"),
    ],
)
def test_detects_every_layout(columns, kind):
    assert detect_kind(columns) == kind


@pytest.mark.parametrize(
    ("name", "payload", "code"),
    [
        ("sales.csv", b"", "empty_file"),
        ("sales.csv", b"   \n", "empty_file"),
        ("sales.csv", b"date,store_id,item_id,units\n", "empty_file"),
        (
            "sales.csv",
            "date,store_id,item_id,units\n2024-01-01,Caf\xe9,X,1\n".encode("latin-1"),
            "wrong_encoding",
        ),
        ("sales.csv", b"PK\x03\x04\x14\x00\x06\x00binary-zip", "not_csv"),
        ("sales.csv", b"PAR1\x00\x00\x00garbage", "not_csv"),
        ("sales.parquet", b"this is not parquet", "not_parquet"),
        ("sales.xlsx", b"whatever", "unsupported_format"),
    ],
)
def test_unreadable_files_raise_a_coded_error(name, payload, code):
    with pytest.raises(BadFileError) as error:
        read_frame(name, payload)
    assert error.value.code == code


def test_wrong_columns_are_rejected_with_the_columns_seen():
    with pytest.raises(BadFileError) as error:
        detect_kind(["when", "shop", "sku", "qty"])
    assert error.value.code == "unknown_layout"
    assert error.value.details["columns"] == ["qty", "shop", "sku", "when"]


def test_unparseable_numbers_name_the_line():
    payload = b"date,store_id,item_id,units\n2024-01-01,A,B,1\n2024-01-02,A,B,ten\n"
    frame = read_frame("s.csv", payload)
    with pytest.raises(BadFileError) as error:
        normalise("sales", frame, None)
    assert error.value.code == "unparseable_numbers"
    assert error.value.details["rows"] == [{"line": 3, "value": "ten"}]


def test_unparseable_dates_name_the_line():
    frame = read_frame("s.csv", b"date,store_id,item_id,units\nyesterday,A,B,1\n")
    with pytest.raises(BadFileError) as error:
        normalise("sales", frame, None)
    assert error.value.code == "unparseable_dates"
    assert error.value.details["rows"][0]["line"] == 2


def test_missing_required_values_are_rejected():
    frame = read_frame("s.csv", b"date,store_id,item_id,units\n2024-01-01,A,B,\n")
    with pytest.raises(BadFileError) as error:
        normalise("sales", frame, None)
    assert error.value.code == "missing_values"


def test_m5_wide_sales_need_the_calendar_then_resolve_days():
    wide = read_frame(
        "sales_train_validation.csv",
        b"id,item_id,dept_id,cat_id,store_id,state_id,d_1,d_2\n"
        b"X_1_1_CA_1_validation,X_1_1,X_1,X,CA_1,CA,0,4\n",
    )
    with pytest.raises(CalendarRequiredError):
        normalise("m5_sales_wide", wide, None)
    calendar = pd.DataFrame(
        {
            "date": pd.to_datetime(["2011-01-29", "2011-01-30"]),
            "d": ["d_1", "d_2"],
            "wm_yr_wk": [11101, 11101],
        }
    )
    out = normalise("m5_sales_wide", wide, calendar)
    assert out["date"].dt.strftime("%Y-%m-%d").tolist() == ["2011-01-29", "2011-01-30"]
    assert out["units"].tolist() == [0.0, 4.0]
    assert out["dept_id"].tolist() == ["X_1", "X_1"]


def test_m5_prices_map_weeks_to_their_first_day_and_reject_unknown_weeks():
    calendar = pd.DataFrame(
        {
            "date": pd.to_datetime(["2011-01-29", "2011-01-30", "2011-02-05"]),
            "d": ["d_1", "d_2", "d_8"],
            "wm_yr_wk": [11101, 11101, 11102],
        }
    )
    prices = read_frame("p.csv", b"store_id,item_id,wm_yr_wk,sell_price\nCA_1,X,11102,1.5\n")
    out = normalise("m5_prices", prices, calendar)
    assert out["date"].tolist() == [pd.Timestamp("2011-02-05")]
    unknown = read_frame("p.csv", b"store_id,item_id,wm_yr_wk,sell_price\nCA_1,X,99999,1.5\n")
    with pytest.raises(BadFileError) as error:
        normalise("m5_prices", unknown, calendar)
    assert error.value.code == "unknown_keys"
