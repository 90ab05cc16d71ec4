"""Point-in-time joins of the feature table: training rows, and forecast rows built the same way.

A row of a training or forecast set pairs a *target day* with the *anchor* row of its forecast
origin (see the leakage design in ``feature_store.build``): the target-day features (calendar,
price) of the day predicted, the state features (history, derived, static) of the anchor
``ds = cutoff + 1`` -- computed from sales up to the cutoff only --, the step ``horizon`` and
the anchor's same-weekday lag and mean for the target's weekday.

* :func:`build_training_set` -- every known target day within ``h`` days of each cutoff;
* :func:`build_forecast_set` -- the ``h`` days after each series' last day, from the same
  transforms over the history extended with the known future inputs (``X_df``), then the same
  join. Serving, the backtests and training therefore read one code path: no train/serve skew.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from feature_store.build import build_features
from feature_store.calendar import DEFAULT_COUNTRY
from feature_store.definitions import (
    HORIZON,
    SAME_WEEKDAY_LAG,
    SAME_WEEKDAY_MEAN,
    STATE_FEATURES,
    TARGET_DAY_FEATURES,
    lag_name,
    weekday_profile_name,
)
from feature_store.future import future_exogenous
from ml.schema import CAT_ID, CUTOFF, DEPT_ID, DS, ITEM_ID, STORE_ID, UNIQUE_ID, Y

HIERARCHY_COLUMNS = [STORE_ID, ITEM_ID, DEPT_ID, CAT_ID]


def build_training_set(
    features: pd.DataFrame, cutoff: pd.Timestamp | str | Iterable, h: int
) -> pd.DataFrame:
    """Point-in-time training rows for one or several cutoffs.

    For each cutoff and each target day ``cutoff + 1 .. cutoff + h`` with known sales: the
    target-day features of that day, the state features of the anchor row ``cutoff + 1`` (sales
    up to ``cutoff`` only), ``horizon`` (1..h) and the same-weekday features. Columns:
    ``unique_id, ds, cutoff, y, horizon, same_wday_*`` then the feature columns; rows ordered
    by cutoff, then as in ``features``.
    """
    _check_horizon(h)
    days = _day_numbers(features[DS])
    known = features[Y].notna().to_numpy()
    targets, steps = [], []
    for point in _day_numbers(pd.Series(_as_timestamps(cutoff))):
        rows = np.flatnonzero(known & (days > point) & (days <= point + h))
        targets.append(rows)
        steps.append(days[rows] - point)
    return _point_in_time(features, np.concatenate(targets), np.concatenate(steps))


def build_forecast_set(
    history: pd.DataFrame,
    h: int,
    future: pd.DataFrame | None = None,
    country: str = DEFAULT_COUNTRY,
) -> pd.DataFrame:
    """Feature rows for the ``h`` days after each series' last day in ``history``.

    ``future`` gives what is known of those days (``unique_id, ds`` with ``sell_price``, ``snap``
    and event columns, as the models' ``X_df``); absent columns, or all of them, are plain days
    at the last known price (``feature_store.future``). The feature table is rebuilt over the
    history plus those days and joined exactly as :func:`build_training_set` joins it, so a
    forecast set equals the training rows of the same cutoff (less ``y``).
    """
    _check_horizon(h)
    ahead = future_exogenous(history, h, future)
    statics = [c for c in HIERARCHY_COLUMNS if c in history.columns]
    if statics:
        first = history.groupby(UNIQUE_ID, sort=True)[statics].first()
        ahead = ahead.join(first, on=UNIQUE_ID)
    features = build_features(pd.concat([history, ahead], ignore_index=True), country)
    origin = history.groupby(UNIQUE_ID, sort=True)[DS].max()
    days = _day_numbers(features[DS])
    origins = _day_numbers(features[UNIQUE_ID].map(origin))
    rows = np.flatnonzero((days > origins) & (days <= origins + h))
    return _point_in_time(features, rows, days[rows] - origins[rows]).drop(columns=Y)


def rejoin(features: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The training-set rows named by ``rows`` (``unique_id, ds, cutoff``), joined afresh from
    ``features``: what the leakage audit compares a model's training rows with."""
    position, found = _locate(features, rows[UNIQUE_ID], _day_numbers(rows[DS]))
    steps = (_day_numbers(rows[DS]) - _day_numbers(rows[CUTOFF]))[found]
    return _point_in_time(features, position[found], steps)


def _point_in_time(features: pd.DataFrame, targets: np.ndarray, steps: np.ndarray):
    """Target rows ``targets`` joined with the state of their anchors ``ds - steps + 1``; target
    rows whose anchor is missing from the table are dropped (an inner join)."""
    anchor_days = _day_numbers(features[DS])[targets] - steps + 1
    anchors, found = _locate(features, features[UNIQUE_ID].to_numpy()[targets], anchor_days)
    anchors, targets, steps = anchors[found], targets[found], steps[found]
    out = features[[UNIQUE_ID, DS, Y, *TARGET_DAY_FEATURES]].iloc[targets].reset_index(drop=True)
    out.insert(2, CUTOFF, out[DS] - pd.to_timedelta(steps, unit="D"))
    state = features[STATE_FEATURES].iloc[anchors].reset_index(drop=True)
    return _with_horizon_features(pd.concat([out, state], axis=1), steps)


def _locate(features: pd.DataFrame, ids, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of ``(ids, days)`` in ``features`` and whether each exists."""
    series = pd.Index(pd.unique(features[UNIQUE_ID]))
    codes = series.get_indexer(features[UNIQUE_ID]).astype(np.int64)
    wanted_codes = series.get_indexer(pd.Index(ids)).astype(np.int64)
    table_days = _day_numbers(features[DS])
    first, span = table_days.min(), int(table_days.max() - table_days.min()) + 2
    keys = codes * span + (table_days - first)
    order = np.argsort(keys, kind="stable")
    wanted = wanted_codes * span + np.clip(days - first, -1, span - 1)
    position = np.minimum(np.searchsorted(keys[order], wanted), len(order) - 1)
    found = (keys[order][position] == wanted) & (wanted_codes >= 0)
    return order[position], found


def _with_horizon_features(frame: pd.DataFrame, horizon: np.ndarray) -> pd.DataFrame:
    """Add ``horizon`` and the anchor's same-weekday lag and mean for each target day."""
    offset = 7 * np.ceil(horizon / 7).astype(int) - horizon + 1  # 1..7 days before the anchor
    lags = frame[[lag_name(k) for k in range(1, 8)]].to_numpy()
    means = frame[[weekday_profile_name(k) for k in range(1, 8)]].to_numpy()
    pick = (offset - 1)[:, None]
    extra = pd.DataFrame(
        {
            HORIZON: horizon.astype(np.int16),
            SAME_WEEKDAY_LAG: np.take_along_axis(lags, pick, axis=1)[:, 0],
            SAME_WEEKDAY_MEAN: np.take_along_axis(means, pick, axis=1)[:, 0],
        },
        index=frame.index,
    )
    position = frame.columns.get_loc(CUTOFF) + 1 + int(Y in frame)
    head, tail = frame.iloc[:, :position], frame.iloc[:, position:]
    return pd.concat([head, extra, tail], axis=1)


def _check_horizon(h: int) -> None:
    if h < 1:
        raise ValueError(f"horizon h must be >= 1, got {h}")


def _day_numbers(ds: pd.Series) -> np.ndarray:
    """Days since the epoch of each date (int64)."""
    return pd.to_datetime(ds).to_numpy().astype("datetime64[D]").astype(np.int64)


def _as_timestamps(cutoff: pd.Timestamp | str | Iterable) -> list[pd.Timestamp]:
    if isinstance(cutoff, str | pd.Timestamp | np.datetime64) or not isinstance(cutoff, Iterable):
        return [pd.Timestamp(cutoff).normalize()]
    return sorted({pd.Timestamp(c).normalize() for c in cutoff})
