import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testkit.m5 import load_m5_sales_history

from ml.pricing.elasticity import estimate_elasticities
from ml.pricing.optimizer import STRATEGIES, PriceBounds, price_window, recommend

pytestmark = pytest.mark.m5


@pytest.fixture(scope="module")
def m5_frame(m5_dir):
    history = load_m5_sales_history(m5_dir, "long")
    table = estimate_elasticities(history)
    last = history.sort_values("ds").groupby("unique_id").tail(28)
    frame = (
        last.groupby("unique_id")
        .agg(current_price=("sell_price", "last"), daily_demand=("y", "mean"))
        .reset_index()
    )
    frame["item_id"] = frame["unique_id"].str.split("__").str[1]
    frame = frame.merge(table[["item_id", "elasticity", "se"]], on="item_id")
    frame = frame.rename(columns={"se": "elasticity_se"}).dropna()
    frame["unit_cost"] = frame["current_price"] * 0.65
    frame["stock"] = np.round(frame["daily_demand"] * 45)
    return table, frame


def test_m5_elasticities_cover_every_item(m5_frame):
    table, frame = m5_frame
    assert len(table) == 28 and table["elasticity"].notna().all()
    assert len(frame) == 252


@settings(max_examples=25, deadline=None)
@given(
    strategy=st.sampled_from(STRATEGIES),
    markup=st.floats(1.0, 1.8),
    ratio=st.floats(1.0, 3.0),
    step=st.floats(0.01, 0.3),
    cost_share=st.floats(0.2, 1.2),
)
def test_recommendations_on_m5_respect_every_bound(
    m5_frame, strategy, markup, ratio, step, cost_share
):
    _, frame = m5_frame
    frame = frame.assign(unit_cost=frame["current_price"] * cost_share)
    bounds = PriceBounds(min_markup=markup, max_price_ratio=ratio, max_step=step)
    out = recommend(frame, strategy, bounds)
    p, p0, tol = out["recommended_price"], out["current_price"], 0.005 + 1e-9
    assert ((p >= p0 * (1 - step) - tol) & (p <= p0 * (1 + step) + tol)).all()
    ok = ~out["bounds_conflict"]
    assert (p[ok] >= out["unit_cost"][ok] * markup - tol).all()
    assert (p[ok] <= p0[ok] * ratio + tol).all()
    window = price_window(p0.to_numpy(), out["unit_cost"].to_numpy(), bounds)
    assert ((p >= window.lo - tol) & (p <= window.hi + tol)).all()
