import numpy as np
import pandas as pd
import pytest

from ml.data.history import build_sales_history
from ml.models.xgboost import XGBoostForecaster
from ml.pricing.response import arc_elasticity, compare, item_price_response, model_price_response
from ml.synthetic import SyntheticConfig, generate


def test_arc_elasticity_is_exact_on_a_constant_elasticity_curve():
    e, step = -1.8, 0.05
    q_up, q_down = 10 * (1 + step) ** e, 10 * (1 - step) ** e
    assert arc_elasticity(np.array([q_up]), np.array([q_down]), step)[0] == pytest.approx(e)
    assert np.isnan(arc_elasticity(np.array([0.0]), np.array([1.0]), step)[0])


def test_the_xgboost_price_response_is_computed_and_compared():
    data = generate(SyntheticConfig(n_stores=2, n_items=10, n_days=365, seed=5))
    history = build_sales_history(data.sales, data.prices, data.calendar, data.products)
    model = XGBoostForecaster(n_estimators=40, calibration_horizon=0).fit(history)
    series = model_price_response(model, h=7)
    assert len(series) == 20 and {"q_up", "q_down", "model_elasticity"} <= set(series.columns)
    items = item_price_response(series)
    assert len(items) == 10 and items["model_elasticity"].notna().all()
    # prices fall -> demand rises for most items, as the true elasticities (all < 0) say
    assert (items["model_elasticity"] <= 0).mean() >= 0.7
    truth = data.truth.groupby("item_id")["elasticity"].first()
    regression = pd.DataFrame(
        {"item_id": truth.index, "elasticity": truth.to_numpy(), "method": "shrunk"}
    )
    summary = compare(regression, items)
    assert summary["items_compared"] == 10 and -1 <= summary["spearman"] <= 1
