import pandas as pd
import pytest

from ml.data.history import build_sales_history
from ml.schema import SALES_HISTORY_COLUMNS, SALES_HISTORY_DTYPES


def _sales(rows):
    frame = pd.DataFrame(rows, columns=["date", "store_id", "item_id", "units"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def test_history_is_dense_from_first_record_to_the_stores_last_day_with_gaps_flagged():
    sales = _sales(
        [
            ("2024-01-01", "CA_1", "FOODS_1_001", 2),
            ("2024-01-04", "CA_1", "FOODS_1_001", 1),
            ("2024-01-02", "CA_1", "FOODS_1_002", 1),
            ("2024-01-06", "CA_1", "FOODS_1_003", 4),
            ("2024-01-02", "TX_1", "FOODS_1_001", 5),
            ("2024-01-03", "TX_1", "FOODS_1_002", 5),
        ]
    )
    history = build_sales_history(sales)
    ca = history[history.unique_id == "CA_1__FOODS_1_001"]
    tx = history[history.unique_id == "TX_1__FOODS_1_001"]
    assert ca["y"].tolist() == [2.0, 0.0, 0.0, 1.0, 0.0, 0.0]  # to CA_1's last day, the 6th
    assert ca["is_filled"].tolist() == [False, True, True, False, True, True]
    assert tx["ds"].dt.day.tolist() == [2, 3]  # TX_1 reported up to the 3rd only
    assert tx["is_filled"].tolist() == [False, True]


def test_history_follows_the_contract_columns_and_dtypes():
    history = build_sales_history(_sales([("2024-01-01", "CA_1", "FOODS_1_001", 2)]))
    assert list(history.columns) == SALES_HISTORY_COLUMNS
    assert {c: str(t) for c, t in history.dtypes.items()} == SALES_HISTORY_DTYPES


def test_hierarchy_comes_from_catalogue_else_from_m5_style_ids():
    sales = _sales([("2024-01-01", "CA_1", "FOODS_1_001", 1), ("2024-01-01", "CA_1", "odd", 1)])
    products = pd.DataFrame({"item_id": ["odd"], "dept_id": ["D"], "cat_id": ["C"]})
    history = build_sales_history(sales, products=products).set_index("item_id")
    assert history.loc["FOODS_1_001", ["dept_id", "cat_id"]].tolist() == ["FOODS_1", "FOODS"]
    assert history.loc["odd", ["dept_id", "cat_id"]].tolist() == ["D", "C"]


def test_price_list_applies_as_of_and_pos_price_wins_where_sold():
    sales = _sales([(f"2024-01-0{d}", "CA_1", "X_1_1", 1) for d in range(1, 6)])
    sales["price"] = [None, None, None, 9.0, None]
    prices = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-01", "2024-01-03"]),
            "store_id": "CA_1",
            "item_id": "X_1_1",
            "price": [2.0, 3.0],
        }
    )
    history = build_sales_history(sales, prices=prices)
    assert history["sell_price"].tolist() == [2.0, 2.0, 3.0, 9.0, 3.0]


def test_snap_follows_the_store_state_and_events_join_by_day():
    sales = _sales([("2024-01-01", "CA_1", "X_1_1", 1), ("2024-01-01", "TX_1", "X_1_1", 1)])
    calendar = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-01"]),
            "event_name_1": ["NewYear"],
            "event_type_1": ["National"],
            "snap_CA": [1],
            "snap_TX": [0],
        }
    )
    history = build_sales_history(sales, calendar=calendar).set_index("store_id")
    assert history.loc["CA_1", "snap"] == 1
    assert history.loc["TX_1", "snap"] == 0
    assert history.loc["CA_1", "event_name_1"] == "NewYear"
    assert history.loc["CA_1", "event_name_2"] is None


def test_no_sales_is_an_error():
    with pytest.raises(ValueError, match="no sales"):
        build_sales_history(_sales([]))
