"""Batch forecasts for every series from the current champion."""

import dagster as dg
import pandas as pd

from ml.monitoring.forecast_table import append_forecasts, forecast_rows
from ml.registry.versions import CHAMPION, alias_version, load_version
from ml.schema import DS, UNIQUE_ID
from orchestration.resources import BacktestResource, ForecastTableResource, RegistryResource

GROUP = "forecasts"
TABLE_LEVEL = 95


@dg.asset(group_name=GROUP, deps=[dg.AssetKey("demand_forecaster")], kinds={"parquet", "sql"})
def demand_forecasts(
    context: dg.AssetExecutionContext,
    sales_history: pd.DataFrame,
    backtest: BacktestResource,
    registry: RegistryResource,
    forecast_table: ForecastTableResource,
) -> dg.Output:
    """Next-h daily forecasts with intervals for every series, from the champion."""
    client = registry.client()
    champion = alias_version(client, registry.model_name, CHAMPION)
    if champion is None:
        raise dg.Failure(f"{registry.model_name} has no champion yet: train and promote first")
    spec = backtest.spec()
    forecaster = load_version(client, registry.model_name).unwrap_python_model().forecaster_
    # Re-anchor on the newest history without re-estimating: a daily refresh, not a retrain.
    known = sales_history[sales_history[UNIQUE_ID].isin(forecaster.series_)]
    forecast = forecaster.update(known).predict(spec.h, level=list(spec.levels))
    rows = forecast_rows(
        forecast, forecaster.alias, TABLE_LEVEL, registry.model_name, str(champion.version)
    )
    written = append_forecasts(rows, forecast_table.url)
    return dg.Output(
        forecast.assign(model_version=str(champion.version)),
        metadata={
            "model_version": str(champion.version),
            "series": int(forecast[UNIQUE_ID].nunique()),
            "first_day": str(forecast[DS].min().date()),
            "last_day": str(forecast[DS].max().date()),
            "table_rows_appended": written,
            "table": forecast_table.url.split("@")[-1],
            "preview": dg.MetadataValue.md(rows.head(10).to_markdown(index=False)),
        },
    )
