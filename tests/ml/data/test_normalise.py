"""Row by row: each kind of bad cell gets its own reason code, on its own line."""

from dataclasses import replace

import pandas as pd
import pytest

from ml.data.cells import IngestLimits
from ml.data.layouts import detect_layout
from ml.data.normalise import CalendarRequiredError, normalise
from ml.data.parsing import read_raw

LIMITS = IngestLimits()
CALENDAR = pd.DataFrame(
    {
        "date": pd.to_datetime(["2011-01-29", "2011-01-30", "2011-02-05", "2011-02-06"]),
        "d": ["d_1", "d_2", "d_8", None],  # a day merged in from a flat events file has no d
        "wm_yr_wk": [11101.0, 11101.0, 11102.0, None],
    }
)


def _rows(payload: bytes, calendar=None, limits=LIMITS, name="f.csv"):
    raw = read_raw(name, payload)
    return normalise(detect_layout(list(raw.frame.columns)), raw, calendar, limits)


def _problems(rows) -> list[tuple]:
    p = rows.problems
    return [
        (int(line), c, col, v)
        for line, c, col, v in zip(rows.line, p.code, p.column, p.value, strict=True)
        if c
    ]


SALES_HEADER = b"date,store_id,item_id,units,price\n"


@pytest.mark.parametrize(
    ("row", "code", "column"),
    [
        (b"2024-01-02,CA_1,X,2.5,1", "fractional_units", "units"),
        (b"2024-01-02,CA_1,X,1e20,1", "units_out_of_range", "units"),
        (b"2024-01-02,CA_1,X,10000001,1", "units_out_of_range", "units"),
        (b"2024-01-02,CA_1,X,inf,1", "units_out_of_range", "units"),
        (b"2024-01-02,CA_1,X,lots,1", "unparseable_numbers", "units"),
        (b"2024-01-02,CA_1,X,,1", "missing_values", "units"),
        (b"20240102,CA_1,X,1,1", "unparseable_dates", "date"),
        (b"01/02/2024,CA_1,X,1,1", "unparseable_dates", "date"),
        (b"2024-02-30,CA_1,X,1,1", "unparseable_dates", "date"),
        (b"1999-12-31,CA_1,X,1,1", "dates_out_of_range", "date"),
        (b"2090-01-01,CA_1,X,1,1", "dates_out_of_range", "date"),
        (b",CA_1,X,1,1", "missing_keys", "date"),
        (b"2024-01-02, ,X,1,1", "missing_keys", "store_id"),
        (b"2024-01-02,CA_1,NA,1,1", "missing_keys", "item_id"),
        (b"2024-01-02,CA__1,X,1,1", "invalid_id", "store_id"),
        (b"2024-01-02,CA_1,X,1,0", "non_positive_price", "price"),
        (b"2024-01-02,CA_1,X,1,-3", "non_positive_price", "price"),
        (b"2024-01-02,CA_1,X,1,2000000", "price_out_of_range", "price"),
        (b"2024-01-02,CA_1,X,1,cheap", "unparseable_numbers", "price"),
    ],
)
def test_each_bad_sales_cell_is_flagged_on_its_line_with_its_code(row, code, column):
    rows = _rows(SALES_HEADER + b"2024-01-01,CA_1,X,3,2.5\n" + row + b"\n")
    [(line, got, col, value)] = _problems(rows)
    assert (line, got, col) == (3, code, column)
    columns = ["date", "store_id", "item_id", "units", "price"]
    assert value == row.decode().split(",")[columns.index(column)]
    assert rows.good.tolist() == [True, False]


def test_a_sale_dated_after_tomorrow_is_out_of_range_but_a_price_may_look_ahead():
    ahead = (pd.Timestamp.now() + pd.Timedelta(days=30)).strftime("%Y-%m-%d").encode()
    sales = _rows(SALES_HEADER + ahead + b",CA_1,X,1,1\n")
    prices = _rows(b"date,store_id,item_id,price\n" + ahead + b",CA_1,X,1\n")
    assert _problems(sales)[0][1] == "dates_out_of_range"
    assert prices.good.all()


def test_a_time_of_day_is_dropped_and_empty_price_is_unknown_not_bad():
    rows = _rows(SALES_HEADER + b"2024-01-01T13:45:00,CA_1,X,1,\n2024-01-02 00:00,CA_1,X,2,3\n")
    assert rows.good.all()
    assert rows.frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-02"]
    assert rows.frame["price"].isna().tolist() == [True, False]


def test_negative_units_are_net_returns_by_default_and_rejected_by_policy():
    payload = SALES_HEADER + b"2024-01-01,CA_1,X,-2,1\n"
    assert _rows(payload).good.all()
    rejecting = _rows(payload, limits=replace(LIMITS, returns="reject"))
    assert _problems(rejecting)[0][1] == "negative_units"


def test_every_row_of_a_key_given_twice_is_a_duplicate():
    rows = _rows(
        SALES_HEADER
        + b"2024-01-01,CA_1,X,1,1\n2024-01-01,CA_1,X,2,1\n"
        + b"2024-01-02,CA_1,X,3,1\n2024-01-01,CA_1,Y,1,1\n"
    )
    assert [p[1] for p in _problems(rows)] == ["duplicate_keys", "duplicate_keys"]
    assert rows.good.tolist() == [False, False, True, True]


def test_a_bad_row_is_not_also_called_a_duplicate_of_a_good_one():
    rows = _rows(SALES_HEADER + b"2024-01-01,CA_1,X,1,1\n2024-01-01,CA_1,X,2.5,1\n")
    assert [p[1] for p in _problems(rows)] == ["fractional_units"]


def test_integer_dates_in_parquet_are_not_dates():
    import io

    buffer = io.BytesIO()
    pd.DataFrame(
        {"date": [20240101], "store_id": ["CA_1"], "item_id": ["X"], "units": [1]}
    ).to_parquet(buffer)
    rows = _rows(buffer.getvalue(), name="f.parquet")
    assert _problems(rows)[0][1:3] == ("unparseable_dates", "date")


def test_calendar_flags_and_day_numbers_are_checked():
    rows = _rows(
        b"date,d,snap_ca,event_name\n2011-01-29,d_1,1,SuperBowl\n2011-01-30,day2,0,\n"
        b"2011-01-31,d_3,2,\n"
    )
    assert [(p[0], p[1], p[2]) for p in _problems(rows)] == [
        (3, "invalid_id", "d"),
        (4, "invalid_flag", "snap_CA"),
    ]
    assert list(rows.frame.columns) == ["date", "d", "event_name_1", "snap_CA"]
    assert rows.frame["event_name_1"].tolist() == ["SuperBowl", None, None]


def test_week_keyed_prices_resolve_through_the_calendar_and_unknown_weeks_are_rows():
    rows = _rows(b"store_id,item_id,week,price\nCA_1,X,11102,2\nCA_1,X,99999,2\n", CALENDAR)
    assert rows.frame["date"].iloc[0] == pd.Timestamp("2011-02-05")
    assert [(p[1], p[2]) for p in _problems(rows)] == [("unknown_keys", "wm_yr_wk")]


def test_week_keyed_prices_wait_for_a_calendar_with_week_numbers():
    without_weeks = CALENDAR.drop(columns=["wm_yr_wk"])
    for calendar in (None, without_weeks):
        with pytest.raises(CalendarRequiredError, match="wm_yr_wk"):
            _rows(b"store_id,item_id,wm_yr_wk,sell_price\nCA_1,X,11102,2\n", calendar)


def test_m5_wide_sales_report_the_day_column_of_a_bad_cell():
    rows = _rows(
        b"id,item_id,dept_id,cat_id,store_id,state_id,d_1,d_2,d_9\nX_CA_1,X,D,C,CA_1,CA,0,x,4\n",
        CALENDAR,
    )
    assert rows.frame["date"].iloc[0] == pd.Timestamp("2011-01-29")
    assert [(p[0], p[1], p[2]) for p in _problems(rows)] == [
        (2, "unparseable_numbers", "d_2"),
        (2, "unknown_keys", "d_9"),
    ]


def test_monthly_totals_start_on_the_first_and_have_plausible_day_counts():
    rows = _rows(
        b"month_start,store_id,item_id,units,n_days\n2024-01-01,CA_1,X,3,31\n"
        b"2024-02-02,CA_1,X,3,29\n2024-03-01,CA_1,X,3,40\n"
    )
    assert [p[1] for p in _problems(rows)] == ["not_month_start", "n_days_out_of_range"]


def test_catalogue_costs_and_hierarchy():
    rows = _rows(b"item_id,dept_id,cat_id,unit_cost\nA,D,C,1.5\nB,,C,1\nC,D,C,-1\nD,D,C,\n")
    assert [(p[1], p[2]) for p in _problems(rows)] == [
        ("missing_values", "dept_id"),
        ("cost_out_of_range", "unit_cost"),
    ]
    assert rows.frame["unit_cost"].isna().tolist() == [False, False, False, True]


def test_only_the_columns_the_file_carries_are_returned():
    rows = _rows(b"date,store_id,item_id,units\n2024-01-01,CA_1,X,1\n")
    assert list(rows.frame.columns) == ["date", "store_id", "item_id", "units"]
