"""Pricing and inventory: item elasticities, price recommendations and reorder points."""

from datetime import UTC, datetime

import dagster as dg
import pandas as pd
from pydantic import Field

from ml.pricing.elasticity import ElasticityConfig, estimate_elasticities, summarise
from ml.pricing.inputs import forecast_model, pricing_inputs, read_inventory
from ml.pricing.inventory import reorder_points as compute_reorder_points
from ml.pricing.optimizer import STRATEGIES, PriceBounds, recommend
from ml.pricing.response import compare, item_price_response, model_price_response
from ml.pricing.store import REC_COLUMNS
from ml.registry.versions import CHAMPION, alias_version, load_version
from orchestration.resources import LakeResource, PricingResource, RegistryResource

GROUP = "pricing"
TABLE_LEVEL = 95


def _batch_id(context: dg.AssetExecutionContext) -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{context.run.run_id[:8]}"


def _preview(frame: pd.DataFrame, columns: list[str], n: int = 10) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame[columns].head(n).round(3).to_markdown(index=False))


@dg.asset(group_name=GROUP, deps=[dg.AssetKey("demand_forecasts")], kinds={"parquet", "sql"})
def price_elasticity(
    context: dg.AssetExecutionContext,
    sales_history: pd.DataFrame,
    registry: RegistryResource,
    pricing: PricingResource,
) -> dg.Output:
    """Price elasticity of demand per item, shrunk toward its department, with its interval."""
    table = estimate_elasticities(sales_history, ElasticityConfig())
    comparison = _model_comparison(context, registry, table)
    pricing.store().save_elasticities(table, _batch_id(context))
    summary = summarise(table)
    return dg.Output(
        table,
        metadata={
            "items": summary["items"],
            "share_negative": summary["share_negative"],
            "median_elasticity": summary["median"],
            "iqr": summary["iqr"],
            "methods": summary["methods"],
            "model_response": comparison,
            "preview": _preview(
                table,
                ["item_id", "elasticity", "se", "lo_90", "hi_90", "n_price_changes", "method"],
            ),
        },
    )


def _model_comparison(context, registry: RegistryResource, table: pd.DataFrame) -> dict:
    """The champion's XGBoost price response against the regression, or why there is none."""
    try:
        client = registry.client()
        if alias_version(client, registry.model_name, CHAMPION) is None:
            return {"status": "no champion to compare with"}
        forecaster = load_version(client, registry.model_name).unwrap_python_model().forecaster_
        movers = [
            m for m in getattr(forecaster, "members", [forecaster]) if hasattr(m, "ref_price_")
        ]
        if not movers:
            return {"status": "the champion has no price-sensitive member"}
        response = item_price_response(model_price_response(movers[0]))
        return {"status": "ok", "member": movers[0].alias, **compare(table, response)}
    except Exception as error:  # the comparison is a diagnostic: it never fails the asset
        context.log.warning("model price response unavailable: %s", error)
        return {"status": f"unavailable: {error}"}


class PriceRecommendationConfig(dg.Config):
    """Strategy and bounds of a batch of price recommendations."""

    strategy: str = Field("profit", description=f"One of {', '.join(STRATEGIES)}.")
    min_markup: float = Field(1.1, description="Price floor as a multiple of unit cost.")
    max_price_ratio: float = Field(2.0, description="Price cap as a multiple of the current price.")
    max_step: float = Field(0.10, description="Largest change per step, as a fraction.")
    clearance_days: float = Field(30.0, description="Days to clear the stock (clearance).")
    valid_days: float = Field(7.0, description="Days a recommendation stays valid.")


@dg.asset(group_name=GROUP, kinds={"parquet", "sql"})
def price_recommendations(
    context: dg.AssetExecutionContext,
    config: PriceRecommendationConfig,
    demand_forecasts: pd.DataFrame,
    price_elasticity: pd.DataFrame,
    sales_history: pd.DataFrame,
    lake: LakeResource,
    pricing: PricingResource,
) -> dg.Output:
    """Recommended price per series under a strategy, within bounds, pending a decision."""
    if config.strategy not in STRATEGIES:
        raise dg.Failure(f"strategy must be one of {STRATEGIES}, got {config.strategy!r}")
    inputs = pricing_inputs(
        demand_forecasts,
        sales_history,
        price_elasticity,
        lake.lake().read_table("products"),
        read_inventory(pricing.inventory_path),
        pricing.default_margin,
        pricing.assumed_cover_days,
    )
    bounds = PriceBounds(config.min_markup, config.max_price_ratio, config.max_step)
    horizon = float(demand_forecasts.groupby("unique_id").size().max())
    table = recommend(inputs, config.strategy, bounds, horizon, config.clearance_days)
    table = table.assign(strategy=config.strategy)
    rows = pricing.store().save_recommendations(table, _batch_id(context), config.valid_days)
    change = table["change_pct"]
    return dg.Output(
        table,
        metadata={
            "strategy": config.strategy,
            "series": len(table),
            "rows_written": rows,
            "price_up": int((change > 0).sum()),
            "price_down": int((change < 0).sum()),
            "unchanged": int((change == 0).sum()),
            "median_change_pct": float(change.median()) if len(change) else 0.0,
            "expected_profit_gain": float(
                (table["expected_profit"] - table["current_profit"]).sum()
            ),
            "assumed_costs": int((table["cost_source"] == "assumed_margin").sum()),
            "bounds_conflicts": int(table["bounds_conflict"].sum()),
            "preview": _preview(
                table,
                [
                    c
                    for c in (
                        "unique_id",
                        "current_price",
                        "recommended_price",
                        "change_pct",
                        "confidence",
                        "reasoning",
                    )
                    if c in REC_COLUMNS or c == "unique_id"
                ],
            ),
        },
    )


@dg.asset(group_name=GROUP, kinds={"parquet", "sql"})
def reorder_points(
    context: dg.AssetExecutionContext, demand_forecasts: pd.DataFrame, pricing: PricingResource
) -> dg.Output:
    """Reorder point, safety stock and order quantity per series, with stock-out alerts."""
    model = forecast_model(demand_forecasts)
    table = compute_reorder_points(
        demand_forecasts,
        model,
        TABLE_LEVEL,
        pricing.policy(),
        read_inventory(pricing.inventory_path),
    )
    pricing.store().save_reorder_points(table, _batch_id(context))
    alerts = table[table["stockout_alert"]]
    return dg.Output(
        table,
        metadata={
            "series": len(table),
            "stockout_alerts": len(alerts),
            "orders_now": int(table["order_now"].sum()),
            "assumed_stock": int((table["stock_source"] == "assumed").sum()),
            "service_level": pricing.service_level,
            "alerts": _preview(alerts, ["unique_id", "stock", "reorder_point", "order_quantity"]),
        },
    )
