"""The days ahead: the exogenous inputs known in advance for the next ``h`` days of each series.

A forecast needs, for every future day, what the feature transforms read about that day: the
planned price, SNAP and the retail events. They come from ``X_df`` when the caller knows them
(M5 publishes prices and the calendar ahead of time). Absent columns, or all of them when
``X_df`` is ``None``, get the plain-day defaults: the last known price held flat, ``snap = 0``
and no event.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.schema import DS, EVENT_COLUMNS, SELL_PRICE, SNAP, UNIQUE_ID

EXOGENOUS_COLUMNS = [SELL_PRICE, SNAP, *EVENT_COLUMNS]


def future_exogenous(history: pd.DataFrame, h: int, X_df: pd.DataFrame | None) -> pd.DataFrame:
    """Exogenous rows (``unique_id, ds`` + :data:`EXOGENOUS_COLUMNS`) for the next ``h`` days.

    The days follow each series' last date in ``history``. Columns present in ``X_df`` are taken
    from it (every series and day must be there); the others get the plain-day defaults.
    """
    grid = future_grid(history, h)
    grid[SELL_PRICE] = grid[UNIQUE_ID].map(last_known_price(history)).astype("float64")
    grid[SNAP] = 0
    for column in EVENT_COLUMNS:
        grid[column] = None
    if X_df is None:
        return grid
    given = [c for c in EXOGENOUS_COLUMNS if c in X_df.columns]
    merged = grid.drop(columns=given).merge(
        X_df[[UNIQUE_ID, DS, *given]].drop_duplicates([UNIQUE_ID, DS]),
        on=[UNIQUE_ID, DS],
        how="left",
        indicator=True,
    )
    missing = merged["_merge"] != "both"
    if missing.any():
        rows = merged.loc[missing, [UNIQUE_ID, DS]].head(3).to_dict("records")
        raise ValueError(f"X_df lacks {int(missing.sum())} future (series, day) rows, e.g. {rows}")
    merged[SNAP] = merged[SNAP].fillna(0)
    return merged[grid.columns]


def future_grid(history: pd.DataFrame, h: int) -> pd.DataFrame:
    """``unique_id, ds`` for the ``h`` days after each series' last date (sorted by id)."""
    last = history.groupby(UNIQUE_ID, sort=True)[DS].max()
    steps = np.tile(np.arange(1, h + 1), len(last)).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            UNIQUE_ID: np.repeat(last.index.to_numpy(), h),
            DS: np.repeat(last.to_numpy().astype("datetime64[ns]"), h) + steps,
        }
    )


def last_known_price(history: pd.DataFrame) -> pd.Series:
    """Last non-missing ``sell_price`` of each series (NaN where it never had one)."""
    if SELL_PRICE not in history.columns:
        return pd.Series(np.nan, index=pd.Index(history[UNIQUE_ID].unique(), name=UNIQUE_ID))
    ordered = history[[UNIQUE_ID, DS, SELL_PRICE]].sort_values([UNIQUE_ID, DS])
    return ordered.groupby(UNIQUE_ID, sort=True)[SELL_PRICE].last()
