"""The LSTM's inputs, read from the feature store's rows (one covariate implementation).

The sequence model sees, for every day of a window, numbers derived from the *target-day*
features of the feature table (``feature_store.definitions``: calendar and price families, known
in advance) and, per series, embeddings of its static codes. Both come from the same rows the
XGBoost model trains on, so no covariate is computed twice in the project.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feature_store import definitions as d
from ml.schema import DS, SELL_PRICE, SNAP, UNIQUE_ID

FLAG_FEATURES = [
    d.ON_PROMOTION,
    SNAP,
    d.IS_EVENT,
    *[d.event_type_name(t) for t in d.EVENT_TYPES],
    d.IS_HOLIDAY,
]
STATIC_FEATURES = [d.STORE_CODE, d.ITEM_CODE, d.DEPT_CODE, d.CAT_CODE]
# every feature-store column the LSTM reads (besides its own past sales)
INPUT_FEATURES = [
    d.DAY_OF_WEEK,
    d.MONTH,
    d.DAY_OF_MONTH,
    d.price_mean_ratio_name("4w"),
    d.DISCOUNT_DEPTH,
    SELL_PRICE,
    *FLAG_FEATURES,
    *STATIC_FEATURES,
]


def covariate_matrix(features: pd.DataFrame) -> np.ndarray:
    """(rows, 22) float32: weekday one-hot, month and day-of-month cycles, the price's ratio to
    its 4-week mean and its discount depth (0 when unknown), an on-sale flag, then the
    promotion, SNAP, event and holiday flags of each row's day."""
    dow = np.eye(7, dtype="float32")[features[d.DAY_OF_WEEK].to_numpy(dtype="int64")]
    angle_m = 2 * np.pi * (features[d.MONTH].to_numpy(dtype="float64") - 1) / 12
    angle_d = 2 * np.pi * (features[d.DAY_OF_MONTH].to_numpy(dtype="float64") - 1) / 31
    cycles = np.stack([np.sin(angle_m), np.cos(angle_m), np.sin(angle_d), np.cos(angle_d)], 1)
    ratio = features[d.price_mean_ratio_name("4w")].to_numpy(dtype="float64") - 1.0
    discount = features[d.DISCOUNT_DEPTH].to_numpy(dtype="float64")
    prices = np.stack([np.clip(np.nan_to_num(ratio), -1, 1), np.nan_to_num(discount)], 1)
    on_sale = np.isfinite(features[SELL_PRICE].to_numpy(dtype="float64"))[:, None]
    flags = features[FLAG_FEATURES].to_numpy(dtype="float32")
    return np.hstack([dow, cycles, prices, on_sale, flags]).astype("float32")


def rows_of(history: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """The feature rows of ``history``'s ``(unique_id, ds)`` keys, in ``history``'s order."""
    keys = history[[UNIQUE_ID, DS]].reset_index(drop=True)
    return keys.merge(features, on=[UNIQUE_ID, DS], how="left", validate="one_to_one")


def static_vocabulary(features: pd.DataFrame) -> dict[str, np.ndarray]:
    """Sorted distinct static codes of each hierarchy level seen at fit."""
    return {c: np.unique(features[c].to_numpy()) for c in STATIC_FEATURES}


def embedding_indices(features: pd.DataFrame, vocab: dict[str, np.ndarray]) -> np.ndarray:
    """(series, levels) int64 embedding rows of each series' first row: 1.. for a code seen at
    fit, 0 for one never seen."""
    first = features.groupby(UNIQUE_ID, sort=True)[list(vocab)].first()
    columns = []
    for column, values in vocab.items():
        codes = first[column].to_numpy()
        position = np.minimum(np.searchsorted(values, codes), len(values) - 1)
        columns.append(np.where(values[position] == codes, position + 1, 0))
    return np.stack(columns, axis=1).astype("int64")
