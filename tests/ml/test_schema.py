"""Forecast column names (``ml.schema``)."""

import pytest

from ml.schema import forecast_column, forecast_columns


def test_forecast_columns_are_the_point_then_lo_hi_per_level_in_the_given_order():
    assert forecast_columns("XGBoost", (95, 80)) == [
        "XGBoost",
        "XGBoost-lo-95",
        "XGBoost-hi-95",
        "XGBoost-lo-80",
        "XGBoost-hi-80",
    ]
    assert forecast_columns("Ensemble", ()) == ["Ensemble"]


def test_a_bound_column_needs_lo_or_hi_and_a_level():
    with pytest.raises(ValueError, match="kind must be 'lo' or 'hi'"):
        forecast_column("XGBoost", "mid", 80)
