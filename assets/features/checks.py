"""Gates on the feature tables: complete, leak-free, and built by this code's feature set."""

import dagster as dg
import numpy as np
import pandas as pd

from assets.features.assets import features, online_features
from feature_store import FEATURE_SET_VERSION, find_leakage, find_missing
from ml.schema import DS, UNIQUE_ID
from orchestration.resources import FeatureStoreResource

LEAKAGE_SERIES = 5
LEAKAGE_CUTOFFS = 2
SEED = 0


@dg.asset_check(asset=features, blocking=True)
def no_missing_features(feature_store: FeatureStoreResource) -> dg.AssetCheckResult:
    """No NaN where a feature must be defined (past its warm-up, where a price exists)."""
    missing = find_missing(feature_store.offline().read())
    return dg.AssetCheckResult(
        passed=missing.empty,
        metadata={
            "features_with_gaps": len(missing),
            "failing": dg.MetadataValue.md(
                missing.to_markdown(index=False) if len(missing) else "none"
            ),
        },
    )


@dg.asset_check(asset=features, blocking=True, additional_ins={"sales_history": dg.AssetIn()})
def no_future_leakage(
    feature_store: FeatureStoreResource, sales_history: pd.DataFrame
) -> dg.AssetCheckResult:
    """Recompute a sample of rows from data strictly before random cutoffs; must match."""
    table = feature_store.offline().read()
    rng = np.random.default_rng(SEED)
    ids = sorted(
        rng.choice(
            table[UNIQUE_ID].unique(),
            size=min(LEAKAGE_SERIES, table[UNIQUE_ID].nunique()),
            replace=False,
        )
    )
    days = pd.Series(sorted(sales_history[DS].unique()))
    cutoffs = sorted(
        rng.choice(days.iloc[len(days) // 2 : -1], size=LEAKAGE_CUTOFFS, replace=False)
    )
    diffs = find_leakage(sales_history, table, [pd.Timestamp(c) for c in cutoffs], ids=ids)
    return dg.AssetCheckResult(
        passed=diffs.empty,
        metadata={
            "series_sampled": dg.MetadataValue.json(list(ids)),
            "cutoffs": dg.MetadataValue.json([str(pd.Timestamp(c).date()) for c in cutoffs]),
            "differing_values": len(diffs),
            "first_differences": dg.MetadataValue.md(
                diffs.head(20).to_markdown(index=False) if len(diffs) else "none"
            ),
        },
    )


@dg.asset_check(asset=features, blocking=True)
def features_version_matches_code(feature_store: FeatureStoreResource) -> dg.AssetCheckResult:
    """The stored table was written by the feature set this code defines."""
    stored = feature_store.offline().stored_version()
    return dg.AssetCheckResult(
        passed=stored == FEATURE_SET_VERSION,
        metadata={"stored_version": str(stored), "code_version": FEATURE_SET_VERSION},
    )


@dg.asset_check(asset=online_features, blocking=True)
def online_version_matches_code(feature_store: FeatureStoreResource) -> dg.AssetCheckResult:
    """Serving reads rows written by this code's feature set."""
    with feature_store.online() as store:
        stored, n = store.version(), len(store.ids())
    return dg.AssetCheckResult(
        passed=stored == FEATURE_SET_VERSION and n > 0,
        metadata={"stored_version": str(stored), "code_version": FEATURE_SET_VERSION, "series": n},
    )
