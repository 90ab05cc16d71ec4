"""Features: the point-in-time offline table and the online state served from it."""

import dagster as dg
import pandas as pd

from feature_store import FEATURE_SET_VERSION, build_features, online_state
from ml.schema import DS, UNIQUE_ID
from orchestration.resources import FeatureStoreResource

GROUP = "features"


@dg.asset(group_name=GROUP, kinds={"pandas", "parquet"})
def features(
    context: dg.AssetExecutionContext,
    sales_history: pd.DataFrame,
    feature_store: FeatureStoreResource,
) -> dg.MaterializeResult:
    """Offline feature table keyed (unique_id, ds): each row is the state at the start of ds."""
    table = build_features(sales_history, country=feature_store.holiday_country)
    manifest = feature_store.offline().write(table)
    return dg.MaterializeResult(
        metadata={
            "feature_set_version": FEATURE_SET_VERSION,
            "dagster/row_count": len(table),
            "series": int(table[UNIQUE_ID].nunique()),
            "features": len(table.columns) - 3,
            "last_state_day": str(table[DS].max().date()),
            "path": dg.MetadataValue.path(str(feature_store.offline().folder())),
            "manifest": dg.MetadataValue.json(_jsonable(manifest)),
        }
    )


@dg.asset(group_name=GROUP, deps=[features], kinds={"sqlite", "redis", "postgres"})
def online_features(feature_store: FeatureStoreResource) -> dg.MaterializeResult:
    """Latest feature state per series (the day after its last sale) for serving."""
    state = online_state(feature_store.offline().read())
    with feature_store.online() as store:
        written = store.write(state, replace=True)
    return dg.MaterializeResult(
        metadata={
            "feature_set_version": FEATURE_SET_VERSION,
            "series": written,
            "state_day": str(state[DS].max().date()),
            "store": feature_store.online_url.split("@")[-1],
        }
    )


def _jsonable(manifest) -> dict:
    data = manifest if isinstance(manifest, dict) else vars(manifest)
    return {
        k: (v if isinstance(v, int | float | str | bool | type(None)) else str(v))
        for k, v in data.items()
    }
