"""Build the offline feature table from ``sales_history`` (joined by ``feature_store.joins``).

Leakage design -- how "no future data" is guaranteed for every horizon
-------------------------------------------------------------------------
1. **Row semantics.** The row ``(unique_id, ds)`` of the feature table holds the *state at the
   start of day ds*. State features (families ``history``, ``derived``, ``static``) use sales
   strictly before ``ds`` only: lags start at 1 day, windows end the day before, derived
   statistics are recomputed at period starts on or before ``ds`` from sales before the period
   start (``feature_store.derived``). Target-day features (``calendar``, ``price``) describe
   day ``ds`` itself and are known in advance (fixed calendar, published events, planned prices);
   their reference values (mean price, regular price, last change) look backwards only.
2. **Frontier row.** Each series gets one extra row at its last day + 1 (``y`` NaN): the state
   after all known sales, which is what serving needs (:func:`online_state`). Its calendar and
   price features are placeholders (no events, the last price carried forward).
3. **Point-in-time join.** :func:`feature_store.joins.build_training_set` takes, for a
   forecast made after ``cutoff``, the state features of the *anchor* row ``ds = cutoff + 1``
   -- computed from sales up to ``cutoff`` only -- for every target day
   ``cutoff + 1 .. cutoff + h``, and the target-day features from the target row, plus the
   step ``horizon``. No state value is read from a row after the anchor, so no horizon can see
   a sale after the cutoff. Target-relative seasonal features (``same_wday_*``) are picked
   from the anchor's last seven days.
4. **Tested.** ``tests/feature_store/test_build.py`` recomputes features from histories
   truncated at random cutoffs and finds them equal to the stored ones, for every feature;
   :func:`feature_store.checks.find_leakage` does the same on a sample for the asset check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feature_store.calendar import DEFAULT_COUNTRY, calendar_features
from feature_store.definitions import (
    FEATURES,
    STATE_FEATURES,
    feature_names,
)
from feature_store.derived import derived_features
from feature_store.history import history_features
from feature_store.panel import Panel
from feature_store.price import price_features
from feature_store.static import static_features
from ml.schema import (
    CAT_ID,
    DEPT_ID,
    DS,
    EVENT_COLUMNS,
    ITEM_ID,
    SELL_PRICE,
    SNAP,
    STORE_ID,
    UNIQUE_ID,
    Y,
)

KEY_COLUMNS = [UNIQUE_ID, DS]
FEATURE_COLUMNS = [f.name for f in FEATURES]
TABLE_COLUMNS = [*KEY_COLUMNS, Y, *FEATURE_COLUMNS]
ONLINE_COLUMNS = [*KEY_COLUMNS, *STATE_FEATURES, *feature_names("price")]
DAY = pd.Timedelta(days=1)


def build_features(history: pd.DataFrame, country: str = DEFAULT_COUNTRY) -> pd.DataFrame:
    """The offline feature table: one row per series and day, plus one frontier row per series.

    ``history`` follows ``ml.schema.SALES_HISTORY_COLUMNS`` (``unique_id``, ``ds``, ``y`` are
    required; absent optional columns mean no price, no events, no SNAP). ``country`` picks the
    public holidays. Rows come sorted by ``(unique_id, ds)``.
    """
    frame = with_frontier(_prepared(history))
    panel = Panel.from_frame(frame)
    y = frame[Y].to_numpy(dtype=np.float64)
    columns: dict[str, np.ndarray | pd.Series] = {}
    columns.update(calendar_features(frame, country))
    columns.update(price_features(panel, frame[SELL_PRICE].to_numpy(), _groups(frame)))
    columns.update(history_features(panel, y))
    columns.update(derived_features(panel, y))
    columns.update(static_features(frame))
    out = pd.DataFrame({UNIQUE_ID: frame[UNIQUE_ID].to_numpy(), DS: frame[DS].to_numpy(), Y: y})
    features = pd.DataFrame(
        {f.name: np.asarray(columns[f.name]).astype(f.dtype) for f in FEATURES}, index=out.index
    )
    return pd.concat([out, features], axis=1)


def _prepared(history: pd.DataFrame) -> pd.DataFrame:
    missing = {UNIQUE_ID, DS, Y} - set(history.columns)
    if missing:
        raise ValueError(f"sales history lacks required columns {sorted(missing)}")
    if history.empty:
        raise ValueError("sales history is empty: no features to build")
    frame = history.sort_values(KEY_COLUMNS, kind="stable").reset_index(drop=True)
    frame[DS] = pd.to_datetime(frame[DS]).dt.normalize()
    duplicated = frame.duplicated(KEY_COLUMNS)
    if duplicated.any():
        first = frame.loc[duplicated, KEY_COLUMNS].iloc[0].tolist()
        raise ValueError(f"{int(duplicated.sum())} duplicate (unique_id, ds) rows, e.g. {first}")
    for column in (STORE_ID, ITEM_ID, DEPT_ID, CAT_ID, SELL_PRICE, *EVENT_COLUMNS):
        if column not in frame:
            frame[column] = np.nan if column == SELL_PRICE else None
    return frame


def with_frontier(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus one row per series at its last day + 1: no sales yet, no events, no SNAP,
    the last known price carried forward."""
    grouped = frame.groupby(UNIQUE_ID, sort=False)
    frontier = grouped.tail(1).copy()
    frontier[DS] = frontier[DS] + DAY
    frontier[Y] = np.nan
    frontier[SELL_PRICE] = grouped[SELL_PRICE].last().reindex(frontier[UNIQUE_ID]).to_numpy()
    for column in EVENT_COLUMNS:
        frontier[column] = None
    if SNAP in frontier:
        frontier[SNAP] = 0
    out = pd.concat([frame, frontier], ignore_index=True)
    return out.sort_values(KEY_COLUMNS, kind="stable").reset_index(drop=True)


def _groups(frame: pd.DataFrame) -> np.ndarray:
    """Store-department group code of each series, in sorted ``unique_id`` order."""
    first = frame.groupby(UNIQUE_ID, sort=True)[[STORE_ID, DEPT_ID]].first()
    keys = first[STORE_ID].astype(str) + "|" + first[DEPT_ID].astype(str)
    return pd.factorize(keys)[0]


def online_state(features: pd.DataFrame) -> pd.DataFrame:
    """Latest state per series for serving: each series' frontier row (its last row).

    Holds the state features after all known sales and the price features of the last price
    (the serving assumption when no new price is planned); ``ds`` is the first day to forecast.
    """
    latest = features.groupby(UNIQUE_ID, sort=True).tail(1)
    return latest[ONLINE_COLUMNS].reset_index(drop=True)
