"""Calendar features of the target day: date parts, public holidays, retail events, SNAP.

All of them are known in advance for any day (the calendar is fixed and the events file lists
future events), so they may describe the day being predicted at any horizon.
"""

from __future__ import annotations

import holidays
import numpy as np
import pandas as pd

from feature_store.definitions import (
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    DAY_OF_YEAR,
    DAYS_SINCE_HOLIDAY,
    DAYS_TO_HOLIDAY,
    EVENT_NAME_CODE,
    EVENT_TYPES,
    HOLIDAY_DISTANCE_CAP,
    IS_EVENT,
    IS_HOLIDAY,
    IS_MONTH_END,
    IS_MONTH_START,
    IS_WEEKEND,
    MONTH,
    QUARTER,
    SEASON,
    WEEK_OF_YEAR,
    event_type_name,
)
from feature_store.static import stable_code
from ml.schema import DS, EVENT_NAME_1, EVENT_NAME_2, EVENT_TYPE_1, EVENT_TYPE_2, SNAP

DEFAULT_COUNTRY = "US"


def calendar_features(frame: pd.DataFrame, country: str = DEFAULT_COUNTRY) -> pd.DataFrame:
    """Calendar feature columns for every row of ``frame`` (index aligned).

    ``frame`` needs ``ds``; the event columns and ``snap`` are optional (absent means no event
    and no SNAP). ``country`` picks the public holidays (an ISO code the ``holidays`` package
    knows, e.g. ``US``, ``GB``, ``DE``).
    """
    days = frame[DS].to_numpy().astype("datetime64[D]")
    unique_days, inverse = np.unique(days, return_inverse=True)
    per_day = pd.concat([date_parts(unique_days), holiday_features(unique_days, country)], axis=1)
    out = per_day.iloc[inverse].set_index(frame.index)
    out = pd.concat([out, event_features(frame)], axis=1)
    snap = frame[SNAP] if SNAP in frame else pd.Series(0, index=frame.index)
    out[SNAP] = snap.fillna(0).astype(np.int8).to_numpy()
    return out


def date_parts(days: np.ndarray) -> pd.DataFrame:
    """Day of week/month/year, ISO week, month, quarter, season, weekend, month start/end."""
    stamps = pd.DatetimeIndex(days.astype("datetime64[ns]"))
    month = stamps.month.to_numpy()
    return pd.DataFrame(
        {
            DAY_OF_WEEK: stamps.dayofweek.to_numpy().astype(np.int8),
            DAY_OF_MONTH: stamps.day.to_numpy().astype(np.int8),
            DAY_OF_YEAR: stamps.dayofyear.to_numpy().astype(np.int16),
            WEEK_OF_YEAR: stamps.isocalendar().week.to_numpy().astype(np.int8),
            MONTH: month.astype(np.int8),
            QUARTER: stamps.quarter.to_numpy().astype(np.int8),
            SEASON: ((month % 12) // 3).astype(np.int8),
            IS_WEEKEND: (stamps.dayofweek.to_numpy() >= 5).astype(np.int8),
            IS_MONTH_START: stamps.is_month_start.astype(np.int8),
            IS_MONTH_END: stamps.is_month_end.astype(np.int8),
        }
    )


def holiday_dates(first: np.datetime64, last: np.datetime64, country: str) -> np.ndarray:
    """Sorted public holidays of ``country`` from the year before ``first`` to after ``last``."""
    years = range(pd.Timestamp(first).year - 1, pd.Timestamp(last).year + 2)
    table = holidays.country_holidays(country, years=years)
    return np.array(sorted(table.keys()), dtype="datetime64[D]")


def holiday_features(days: np.ndarray, country: str) -> pd.DataFrame:
    """Holiday flag and capped distance (days) to the next and from the last holiday."""
    hol = holiday_dates(days.min(), days.max(), country)
    cap = HOLIDAY_DISTANCE_CAP
    after = np.searchsorted(hol, days, side="left")
    before = np.searchsorted(hol, days, side="right") - 1
    to_next = _capped_gap(hol, after, days, sign=1, cap=cap)
    since_last = _capped_gap(hol, before, days, sign=-1, cap=cap)
    return pd.DataFrame(
        {
            IS_HOLIDAY: np.isin(days, hol).astype(np.int8),
            DAYS_TO_HOLIDAY: to_next,
            DAYS_SINCE_HOLIDAY: since_last,
        }
    )


def _capped_gap(
    hol: np.ndarray, index: np.ndarray, days: np.ndarray, sign: int, cap: int
) -> np.ndarray:
    valid = (index >= 0) & (index < len(hol))
    gap = np.full(len(days), cap, dtype=np.int64)
    gap[valid] = sign * (hol[index[valid]] - days[valid]).astype(np.int64)
    return np.minimum(gap, cap).astype(np.int8)


def event_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Retail-event flags (any, and one per M5 event type) and a stable event-name code."""
    types = [_column(frame, c) for c in (EVENT_TYPE_1, EVENT_TYPE_2)]
    names = [_column(frame, c) for c in (EVENT_NAME_1, EVENT_NAME_2)]
    out = {IS_EVENT: (names[0].notna() | names[1].notna()).to_numpy().astype(np.int8)}
    for event_type in EVENT_TYPES:
        hit = types[0].eq(event_type) | types[1].eq(event_type)
        out[event_type_name(event_type)] = hit.to_numpy().astype(np.int8)
    out[EVENT_NAME_CODE] = stable_code(names[0].where(names[0].notna(), names[1]))
    return pd.DataFrame(out, index=frame.index)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name]
    return pd.Series(None, index=frame.index, dtype=object)
