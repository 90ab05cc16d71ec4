import numpy as np
import pandas as pd
import pytest

from ml.pricing.inputs import forecast_model, pricing_inputs


def _frames():
    history = pd.DataFrame(
        {
            "unique_id": ["S_1__A_1", "S_1__A_1", "S_1__B_1"],
            "ds": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02"]),
            "sell_price": [4.0, 5.0, 2.0],
        }
    )
    forecast = pd.DataFrame(
        {
            "unique_id": ["S_1__A_1"] * 2 + ["S_1__B_1"] * 2,
            "ds": pd.to_datetime(["2024-01-03", "2024-01-04"] * 2),
            "M": [2.0, 4.0, 1.0, 1.0],
            "M-hi-95": 9.0,
            "M-lo-95": 0.0,
        }
    )
    elasticities = pd.DataFrame(
        {
            "item_id": ["A_1", "B_1"],
            "elasticity": [-2.0, -1.0],
            "se": [0.1, 0.5],
            "method": ["shrunk", "pooled"],
        }
    )
    return history, forecast, elasticities


def test_costs_from_the_catalogue_else_the_margin_assumption():
    history, forecast, elasticities = _frames()
    products = pd.DataFrame({"item_id": ["A_1", "B_1"], "unit_cost": [3.0, np.nan]})
    stock = pd.DataFrame({"store_id": ["S_1"], "item_id": ["A_1"], "on_hand": [40.0]})
    out = pricing_inputs(
        forecast, history, elasticities, products, stock, default_margin=0.4
    ).set_index("item_id")
    assert forecast_model(forecast) == "M"
    assert out.loc["A_1", "current_price"] == 5.0 and out.loc["A_1", "daily_demand"] == 3.0
    assert out.loc["A_1", "unit_cost"] == 3.0 and out.loc["A_1", "cost_source"] == "catalogue"
    assert out.loc["B_1", "unit_cost"] == pytest.approx(1.2)  # 2.00 x (1 - 0.4)
    assert out.loc["B_1", "cost_source"] == "assumed_margin"
    assert out.loc["A_1", "stock_source"] == "inventory" and out.loc["B_1", "stock"] == 14.0
    assert out.loc["B_1", "elasticity_method"] == "pooled"
