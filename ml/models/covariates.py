"""Future covariates and covariate features shared by the global models (XGBoost, LSTM).

Both global models learn from the exogenous columns that ride along in ``sales_history``
(``sell_price``, ``snap`` and the event columns) and need the same columns for the forecast
days. Those come from ``X_df`` when the caller knows them (M5 publishes prices and the calendar
ahead of time). When ``X_df`` is ``None`` the future is assumed to look like a plain day: the
last known price is held flat, ``snap`` is 0 and there is no event.

Only information known in advance is used here, so the features are free of target leakage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.schema import (
    CAT_ID,
    DEPT_ID,
    DS,
    EVENT_COLUMNS,
    EVENT_NAME_1,
    EVENT_NAME_2,
    EVENT_TYPE_1,
    EVENT_TYPE_2,
    ITEM_ID,
    SELL_PRICE,
    SNAP,
    STORE_ID,
    UNIQUE_ID,
)

EXOGENOUS_COLUMNS = [SELL_PRICE, SNAP, *EVENT_COLUMNS]
STATIC_COLUMNS = [STORE_ID, ITEM_ID, DEPT_ID, CAT_ID]
EVENT_TYPES = ["Cultural", "National", "Religious", "Sporting"]

# names of the derived covariates
PRICE_RATIO = "price_ratio"
ON_SALE = "on_sale"
IS_EVENT = "is_event"
EVENT_CODE = "event_code"
COVARIATE_COLUMNS = [
    SELL_PRICE,
    PRICE_RATIO,
    ON_SALE,
    SNAP,
    IS_EVENT,
    EVENT_CODE,
    *[f"event_{t.lower()}" for t in EVENT_TYPES],
]


def future_exogenous(history: pd.DataFrame, h: int, X_df: pd.DataFrame | None) -> pd.DataFrame:
    """Exogenous rows (``unique_id, ds`` + :data:`EXOGENOUS_COLUMNS`) for the next ``h`` days.

    The days follow each series' last date in ``history``. Columns present in ``X_df`` are taken
    from it (every series and day must be there); absent columns, or all of them when ``X_df``
    is ``None``, get the plain-day defaults: last known price, ``snap = 0``, no event.
    """
    grid = _future_grid(history, h)
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


def _future_grid(history: pd.DataFrame, h: int) -> pd.DataFrame:
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


def reference_prices(history: pd.DataFrame) -> pd.Series:
    """Mean non-missing price of each series: the base that :data:`PRICE_RATIO` divides by."""
    if SELL_PRICE not in history.columns:
        return pd.Series(dtype="float64")
    return history.groupby(UNIQUE_ID, sort=True)[SELL_PRICE].mean()


def event_vocabulary(history: pd.DataFrame) -> list[str]:
    """Sorted event names seen in the history (codes start at 1; 0 is 'no or unknown event')."""
    names: set[str] = set()
    for column in (EVENT_NAME_1, EVENT_NAME_2):
        if column in history.columns:
            names.update(str(v) for v in history[column].dropna().unique())
    return sorted(names)


def covariate_features(
    frame: pd.DataFrame, ref_price: pd.Series, events: list[str]
) -> pd.DataFrame:
    """Numeric covariates (:data:`COVARIATE_COLUMNS`) for the rows of ``frame``.

    Missing input columns read as 'no information': NaN price, no snap, no event.
    """
    n = len(frame)
    price = _column(frame, SELL_PRICE, np.nan).astype("float64")
    base = frame[UNIQUE_ID].map(ref_price).to_numpy(dtype="float64") if len(ref_price) else np.nan
    out = pd.DataFrame(index=frame.index)
    out[SELL_PRICE] = price
    with np.errstate(divide="ignore", invalid="ignore"):
        out[PRICE_RATIO] = price / base
    out[ON_SALE] = np.isfinite(price).astype("int8")
    out[SNAP] = _column(frame, SNAP, 0).fillna(0).astype("int8")
    types = [_column(frame, c, None) for c in (EVENT_TYPE_1, EVENT_TYPE_2)]
    names = [_column(frame, c, None) for c in (EVENT_NAME_1, EVENT_NAME_2)]
    any_event = names[0].notna() | names[1].notna() | types[0].notna() | types[1].notna()
    out[IS_EVENT] = any_event.astype("int8").to_numpy()
    codes = {name: i + 1 for i, name in enumerate(events)}
    out[EVENT_CODE] = names[0].map(codes).fillna(0).astype("int16").to_numpy() if n else 0
    for kind in EVENT_TYPES:
        out[f"event_{kind.lower()}"] = ((types[0] == kind) | (types[1] == kind)).to_numpy(
            dtype="int8"
        )
    return out


def _column(frame: pd.DataFrame, column: str, default: object) -> pd.Series:
    """``frame[column]`` reset to a positional index, or a constant when it is absent."""
    if column in frame.columns:
        return frame[column].reset_index(drop=True).set_axis(frame.index)
    return pd.Series(default, index=frame.index, dtype="object" if default is None else None)


def calendar_features(ds: pd.Series) -> pd.DataFrame:
    """Day of week, day of month, month and day of year of each date (known in advance)."""
    dates = pd.DatetimeIndex(ds)
    return pd.DataFrame(
        {
            "dayofweek": dates.dayofweek.to_numpy(dtype="int8"),
            "day": dates.day.to_numpy(dtype="int8"),
            "month": dates.month.to_numpy(dtype="int8"),
            "dayofyear": dates.dayofyear.to_numpy(dtype="int16"),
        },
        index=ds.index,
    )


def static_codes(frame: pd.DataFrame, vocab: dict[str, list[str]]) -> pd.DataFrame:
    """Integer codes of the hierarchy columns by a vocabulary fixed at fit (unknown -> -1)."""
    out = pd.DataFrame(index=frame.index)
    for column, values in vocab.items():
        codes = {v: i for i, v in enumerate(values)}
        source = _column(frame, column, None)
        out[f"{column}_code"] = source.map(codes).fillna(-1).astype("int32")
    return out


def static_vocabulary(history: pd.DataFrame) -> dict[str, list[str]]:
    """Sorted distinct values of each hierarchy column present in the history."""
    return {
        c: sorted(str(v) for v in history[c].dropna().unique())
        for c in STATIC_COLUMNS
        if c in history.columns
    }
