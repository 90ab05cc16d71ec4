import numpy as np
import pandas as pd
import pytest

from ml.data.history import build_sales_history
from ml.pricing.elasticity import (
    POOLED,
    SHRUNK,
    Z90,
    ElasticityConfig,
    count_price_changes,
    estimate_elasticities,
    pooled_prior,
    shrink,
    summarise,
    weekly_panel,
)
from ml.synthetic import SyntheticConfig, generate


@pytest.fixture(scope="module")
def synthetic():
    data = generate(SyntheticConfig(seed=42))  # 3 stores x 120 items x 730 days
    history = build_sales_history(data.sales, data.prices, data.calendar, data.products)
    truth = data.truth.groupby("item_id")["elasticity"].first()
    return history, truth, data


@pytest.fixture(scope="module")
def estimates(synthetic):
    history, _, _ = synthetic
    return estimate_elasticities(history)


def test_recovers_the_known_elasticities(estimates, synthetic):
    _, truth, _ = synthetic
    error = estimates["elasticity"] - truth.reindex(estimates["item_id"]).to_numpy()
    assert np.median(np.abs(error)) < 0.2
    inside = (estimates["lo_90"] <= truth.reindex(estimates["item_id"]).to_numpy()) & (
        truth.reindex(estimates["item_id"]).to_numpy() <= estimates["hi_90"]
    )
    assert 0.80 <= inside.mean() <= 0.97  # 90 % nominal; 120 items give a +-0.05 spread
    assert (estimates["method"] == SHRUNK).all()  # every synthetic item has > 10 changes
    assert np.allclose(estimates["hi_90"] - estimates["elasticity"], Z90 * estimates["se"])


def test_items_with_few_price_changes_get_the_pooled_department_estimate(synthetic):
    history, truth, _ = synthetic
    changes = count_price_changes(weekly_panel(history))
    threshold = int(changes.median())  # about half the items fall short
    out = estimate_elasticities(history, ElasticityConfig(min_price_changes=threshold))
    pooled = out[out["method"] == POOLED]
    assert 20 <= len(pooled) <= 100
    assert (pooled["n_price_changes"] < threshold).all()
    assert out.loc[out["method"] != POOLED, "n_price_changes"].ge(threshold).all()
    # one value per department, and wider than the item estimates
    assert pooled.groupby("dept_id")["elasticity"].nunique().eq(1).all()
    assert pooled["se"].median() > out.loc[out["method"] == SHRUNK, "se"].median()


def test_price_changes_are_counted_per_store_week_to_week():
    history = pd.DataFrame(
        {
            "unique_id": ["S1__I_1"] * 28,
            "ds": pd.date_range("2024-01-06", periods=28),
            "y": 1.0,
            "store_id": "S1",
            "item_id": "I_1",
            "dept_id": "I",
            "cat_id": "I",
            "sell_price": np.repeat([2.0, 2.0, 1.5, 2.0], 7),
            "snap": 0,
            "is_filled": False,
        }
    )
    assert count_price_changes(weekly_panel(history)).to_dict() == {"I_1": 2}


def test_shrinkage_is_the_precision_weighted_normal_posterior():
    raw = pd.DataFrame(
        {
            "item_id": ["A", "B", "C", "D"],
            "dept_id": "D1",
            "cat_id": "C1",
            "raw_elasticity": [-1.0, -2.0, -3.0, np.nan],
            "raw_se": [0.5, 0.5, 1.0, np.nan],
            "n_price_changes": [20, 20, 20, 3],
            "n_weeks": 50,
            "n_stores": 1,
        }
    )
    mu, mu_se, tau2 = pooled_prior(
        raw["raw_elasticity"][:3].to_numpy(), raw["raw_se"][:3].to_numpy()
    )
    out = shrink(raw).set_index("item_id")
    expected_a = (-1.0 / 0.25 + mu / tau2) / (1 / 0.25 + 1 / tau2)
    assert out.loc["A", "elasticity"] == pytest.approx(expected_a)
    assert out.loc["A", "se"] == pytest.approx((1 / 0.25 + 1 / tau2) ** -0.5)
    assert out.loc["D", "method"] == POOLED
    assert out.loc["D", "elasticity"] == pytest.approx(mu)
    assert out.loc["D", "se"] == pytest.approx(np.sqrt(tau2 + mu_se**2))
    assert -2.0 < out.loc["A", "elasticity"] < -1.0  # pulled toward the department


def test_summary_has_the_headline_figures(estimates):
    summary = summarise(estimates)
    assert summary["items"] == 120 and summary["share_negative"] == 1.0
    assert summary["iqr"][0] <= summary["median"] <= summary["iqr"][1]


def test_too_short_a_history_gives_no_estimate_rather_than_an_invented_one(synthetic):
    history, _, _ = synthetic
    recent = history[history["ds"] >= history["ds"].max() - pd.Timedelta(days=27)]
    out = estimate_elasticities(recent)
    assert (out["method"] == "insufficient").all() and out["elasticity"].isna().all()
    assert summarise(out)["estimated"] == 0


def test_elasticity_errors_are_hc3_not_hc0():
    """HC3 inflates each squared residual by 1 / (1 - h)^2: on a design with one high-leverage
    point it is strictly wider than the plain White (HC0) sandwich, by a known amount."""
    from ml.pricing.elasticity import ols_hc3

    x = np.array([0.0, 0.1, 0.2, 0.3, 1.0])  # the last point: leverage 0.94
    X = np.column_stack([np.ones_like(x), x])
    y = np.array([1.0, 1.3, 0.9, 1.4, 2.5])
    beta, cov = ols_hc3(X, y)
    bread = np.linalg.inv(X.T @ X)
    residual = y - X @ beta
    leverage = np.einsum("ij,jk,ik->i", X, bread, X)
    score = X * (residual / (1 - leverage))[:, None]
    assert cov == pytest.approx(bread @ score.T @ score @ bread)
    hc0 = bread @ (X * residual[:, None]).T @ (X * residual[:, None]) @ bread
    assert cov[1, 1] > 1.5 * hc0[1, 1]
