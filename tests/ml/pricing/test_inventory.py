import numpy as np
import pandas as pd
import pytest

from ml.pricing.inventory import InventoryPolicy, reorder_points

Z95_TWO_SIDED = 1.959963984540054  # the 95 % interval's half-width in sigmas
Z95 = 1.6448536269514722  # the 95 % service level's one-sided quantile


def _forecast():
    days = pd.date_range("2024-01-01", periods=10)
    frame = pd.DataFrame(
        {
            "unique_id": ["CA_1__A_1"] * 10 + ["CA_1__B_1"] * 10,
            "ds": list(days) * 2,
            "M": [2.0] * 10 + [1.0] * 10,
        }
    )
    frame["M-hi-95"] = frame["M"] + Z95_TWO_SIDED * np.r_[[1.0] * 10, [0.5] * 10]
    frame["M-lo-95"] = 0.0
    return frame


def test_reorder_point_matches_the_hand_computed_values():
    policy = InventoryPolicy(lead_time_days=4, lead_time_by_item={"B_1": 12}, review_period_days=3)
    stock = pd.DataFrame({"store_id": ["CA_1"], "item_id": ["A_1"], "on_hand": [5.0]})
    out = reorder_points(_forecast(), "M", 95, policy, stock).set_index("item_id")
    a, b = out.loc["A_1"], out.loc["B_1"]
    # A: 4 days x 2/day, sigma 1/day -> sigma_L = 2; ROP = 8 + 1.645 x 2
    assert a["lead_time_demand"] == pytest.approx(8.0)
    assert a["safety_stock"] == pytest.approx(Z95 * 2.0)
    assert a["reorder_point"] == pytest.approx(8.0 + Z95 * 2.0)
    # order up to 7 days (4 + 3): 14 + 1.645 x sqrt(7); stock 5 -> order ceil(S - 5)
    assert a["order_up_to"] == pytest.approx(14.0 + Z95 * np.sqrt(7.0))
    assert a["order_quantity"] == np.ceil(14.0 + Z95 * np.sqrt(7.0) - 5.0)
    assert a["stock_source"] == "inventory" and a["stockout_alert"]
    # B: 12-day lead time past the 10-day horizon: 2 extra days at the tail average
    assert b["lead_time_days"] == 12 and b["lead_time_demand"] == pytest.approx(12.0)
    assert b["lead_time_sigma"] == pytest.approx(0.5 * np.sqrt(12.0))
    assert b["stock_source"] == "assumed" and b["stock"] == 14.0  # 14 days of cover


def test_no_alert_and_no_order_when_stock_is_ample():
    stock = pd.DataFrame(
        {"store_id": ["CA_1", "CA_1"], "item_id": ["A_1", "B_1"], "on_hand": [500.0, 500.0]}
    )
    out = reorder_points(_forecast(), "M", 95, stock=stock)
    assert not out["stockout_alert"].any() and (out["order_quantity"] == 0).all()


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        InventoryPolicy(service_level=1.0)
    with pytest.raises(ValueError):
        InventoryPolicy(lead_time_by_item={"A_1": 0})
