import pandas as pd
import pytest

from ml.data.history import build_sales_history
from ml.data.validation import validate_frame


@pytest.fixture(scope="module")
def history():
    sales = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=40),
            "store_id": "CA_1",
            "item_id": "FOODS_1_001",
            "units": [float(i % 4) for i in range(40)],
            "price": 2.0,
        }
    )
    return build_sales_history(sales)


def test_a_clean_history_passes_every_rule(history):
    summary = validate_frame(history, "sales_history")
    assert summary.success, [f.describe() for f in summary.failures]
    assert summary.evaluated > 20


def test_negative_units_zero_prices_and_duplicate_keys_are_each_reported(history):
    bad = history.copy()
    bad.loc[3, "y"] = -1.0
    bad.loc[5, "sell_price"] = 0.0
    bad = pd.concat([bad, bad.iloc[[7]]], ignore_index=True)
    failures = {(f.rule, f.column): f for f in validate_frame(bad, "sales_history").failures}
    assert failures[("expect_column_values_to_be_between", "y")].unexpected_count == 1
    assert failures[("expect_column_values_to_be_between", "y")].examples == ["-1.0"]
    assert failures[("expect_column_values_to_be_between", "sell_price")].unexpected_count == 1
    assert failures[("expect_compound_columns_to_be_unique", "unique_id,ds")].unexpected_count == 2


def test_wrong_types_and_missing_columns_fail_the_schema(history):
    bad = history.drop(columns=["snap"]).assign(y=history["y"].astype(str))
    rules = {(f.rule, f.column) for f in validate_frame(bad, "sales_history").failures}
    assert ("expect_column_to_exist", "snap") in rules
    assert ("expect_column_values_to_be_in_type_list", "y") in rules


def test_dates_outside_the_sane_range_fail(history):
    bad = history.copy()
    bad.loc[0, "ds"] = pd.Timestamp("1999-12-31")
    bad.loc[1, "ds"] = pd.Timestamp.now() + pd.Timedelta(days=800)
    failure = next(f for f in validate_frame(bad, "sales_history").failures if f.column == "ds")
    assert failure.unexpected_count == 2


def test_unknown_suite_is_an_error(history):
    with pytest.raises(ValueError, match="unknown suite"):
        validate_frame(history, "nope")
