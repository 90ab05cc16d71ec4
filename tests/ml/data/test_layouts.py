import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ml.data.layouts import LAYOUTS, LayoutError, canonical_column, detect_layout


@pytest.mark.parametrize(
    ("columns", "layout"),
    [
        (["date", "store_id", "item_id", "units"], "sales"),
        (["date", "store_id", "item_id", "units", "sell_price", "dept_id", "cat_id"], "sales"),
        (["date", "store_id", "item_id", "price"], "prices"),
        (["week_start", "store_id", "item_id", "price"], "prices_weekly"),
        (["store_id", "item_id", "wm_yr_wk", "sell_price"], "prices_by_week"),
        (["store_id", "item_id", "week", "price"], "prices_by_week"),
        (["date", "event_name_1", "snap_CA"], "calendar"),
        (["date", "event_name", "event_type", "snap"], "calendar"),
        (
            ["date", "wm_yr_wk", "weekday", "wday", "month", "year", "d", "snap_TX"],
            "calendar",
        ),
        (["item_id", "dept_id", "cat_id", "unit_cost"], "products"),
        (
            ["id", "item_id", "dept_id", "cat_id", "store_id", "state_id", "d_1", "d_2"],
            "m5_sales_wide",
        ),
        (["item_id", "store_id", "month_start", "n_days", "units"], "sales_monthly"),
    ],
)
def test_every_layout_is_recognised_with_its_aliases(columns, layout):
    assert detect_layout(columns).name == layout


@pytest.mark.parametrize(
    ("columns", "closest", "missing", "unexpected"),
    [
        # A POS export with qty for units is no price list: it is a sales file to rename.
        (["date", "store_id", "item_id", "qty", "price"], "sales", ["units"], ["qty"]),
        (
            ["day", "shop", "sku", "qty"],
            "sales",
            ["date", "store_id", "item_id", "units"],
            ["day", "shop", "sku", "qty"],
        ),  # fmt: skip
        (["date", "store_id", "item_id", "price", "dept_id"], "prices", [], ["dept_id"]),
        (["date", "store_id", "item_id", "dept_id"], "sales", ["units"], []),
        (["date"], "calendar", ["one of"], []),
        (
            ["id", "item_id", "dept_id", "cat_id", "store_id", "state_id"],
            "m5_sales_wide",
            ["at least one"],
            [],
        ),
        (["date", "store_id", "item_id", "units", "store_name"], "sales", [], ["store_name"]),
    ],
)
def test_no_match_names_the_closest_layout_and_what_it_lacks(columns, closest, missing, unexpected):
    with pytest.raises(LayoutError) as error:
        detect_layout(columns)
    details = error.value.details
    assert details["closest_layout"] == closest
    assert len(details["missing_columns"]) == len(missing)
    assert all(
        got.startswith(want) for got, want in zip(details["missing_columns"], missing, strict=True)
    )
    assert details["unexpected_columns"] == unexpected
    assert closest in str(error.value)


def test_a_known_synonym_is_suggested_never_mapped():
    with pytest.raises(LayoutError) as error:
        detect_layout(["date", "store_id", "item_id", "qty"])
    assert error.value.details["rename_hints"] == {"qty": "units"}
    assert "qty -> units" in str(error.value)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (" Store ID ", "store_id"),
        ("ITEM-ID", "item_id"),
        ("snap_tx", "snap_TX"),
        ("SNAP_Wi", "snap_WI"),
        ("snap", "snap"),
        ("\ufeffdate", "date"),
        ("D_12", "d_12"),
    ],
)
def test_column_names_keep_their_meaning_whatever_the_case(raw, canonical):
    assert canonical_column(raw) == canonical


ALL_COLUMNS = sorted(
    {c for layout in LAYOUTS for c in (*layout.required, *layout.optional, *layout.ignored)}
    | {"snap_CA", "d_1", "qty", "week", "event_name", "sell_price"}
)


@given(st.sets(st.sampled_from(ALL_COLUMNS), min_size=1, max_size=10))
def test_any_column_set_fits_at_most_one_layout(columns):
    columns = sorted(columns)
    fitting = [layout.name for layout in LAYOUTS if layout.fit(columns) == ([], [])]
    assert len(fitting) <= 1
    if fitting:
        assert detect_layout(columns).name == fitting[0]
    else:
        with pytest.raises(LayoutError):
            detect_layout(columns)


def test_layouts_are_disjoint_on_their_required_columns():
    for a, b in itertools.combinations(LAYOUTS, 2):
        assert b.fit(list(a.required)) != ([], []), (a.name, b.name)
