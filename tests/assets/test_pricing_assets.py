import dagster as dg
import numpy as np
import pandas as pd
import pytest
from testkit.dagster_runs import asset_metadata

from assets.pricing.assets import price_elasticity, price_recommendations, reorder_points
from ml.data.history import build_sales_history
from ml.pricing.store import PricingStore
from ml.synthetic import SyntheticConfig, generate
from orchestration.resources import build_resources

MODEL = "Ensemble"


@pytest.fixture(scope="module")
def history():
    data = generate(SyntheticConfig(n_stores=2, n_items=14, n_days=400, seed=3))
    return build_sales_history(data.sales, data.prices, data.calendar, data.products)


def _forecast(history: pd.DataFrame, h: int = 14) -> pd.DataFrame:
    last = history.groupby("unique_id")["ds"].max()
    mean = history.groupby("unique_id")["y"].apply(lambda y: y.tail(28).mean())
    rows = pd.DataFrame(
        {
            "unique_id": np.repeat(last.index, h),
            "ds": np.repeat(last.to_numpy(), h)
            + np.tile(pd.to_timedelta(np.arange(1, h + 1), "D"), len(last)),
        }
    )
    rows[MODEL] = rows["unique_id"].map(mean).to_numpy()
    for level, z in ((80, 1.2816), (95, 1.96)):
        rows[f"{MODEL}-lo-{level}"] = np.maximum(rows[MODEL] - z * 1.5, 0.0)
        rows[f"{MODEL}-hi-{level}"] = rows[MODEL] + z * 1.5
    return rows


@pytest.fixture(scope="module")
def materialised(history, tmp_path_factory):
    from orchestration.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("pricing") / "data")

    @dg.asset(name="sales_history")
    def fake_history() -> pd.DataFrame:
        return history

    @dg.asset(name="demand_forecasts")
    def fake_forecasts() -> pd.DataFrame:
        return _forecast(history)

    config = {"ops": {"price_recommendations": {"config": {"strategy": "profit"}}}}
    result = dg.materialize(
        [fake_history, fake_forecasts, price_elasticity, price_recommendations, reorder_points],
        resources=build_resources(settings),
        run_config=config,
        instance=dg.DagsterInstance.ephemeral(),
    )
    return result, settings


def test_pricing_assets_materialise_with_metadata(materialised):
    result, _ = materialised
    assert result.success
    elasticity = asset_metadata(result, "price_elasticity")
    assert elasticity["items"] == 14 and elasticity["share_negative"] > 0.9
    assert elasticity["model_response"]["status"].startswith(("no champion", "unavailable"))
    recs = asset_metadata(result, "price_recommendations")
    assert recs["series"] == 28 and recs["rows_written"] == 28
    assert recs["assumed_costs"] == 28  # no catalogue in this lake: the margin assumption
    points = asset_metadata(result, "reorder_points")
    assert points["series"] == 28 and points["assumed_stock"] == 28


def test_outputs_land_in_the_pricing_store(materialised):
    result, settings = materialised
    store = PricingStore(settings.pricing_url)
    recs = store.list_recommendations()
    assert len(recs) == 28 and (recs["status"] == "pending").all()
    assert (recs["strategy"] == "profit").all() and recs["reasoning"].str.len().gt(10).all()
    assert len(store.read_elasticities()) == 14
    assert len(store.read_reorder_points()) == 28
    output = result.output_for_node("price_recommendations")
    change = output["recommended_price"] / output["current_price"] - 1
    assert change.abs().max() <= 0.10 + 0.005
