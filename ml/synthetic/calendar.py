"""The events calendar: US holidays, a few retail events and SNAP days, as in M5.

National holidays come from the ``holidays`` package (observed-day copies left out); religious,
cultural and sporting events follow their usual rules. SNAP days are a fixed set of days of the
month per state (M5's pattern), so a state's SNAP days are the same every month.
"""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pandas as pd
from dateutil.easter import EASTER_ORTHODOX, easter

from ml.schema import DATE, EVENT_NAME_1, EVENT_NAME_2, EVENT_TYPE_1, EVENT_TYPE_2

NATIONAL, RELIGIOUS, CULTURAL, SPORTING = "National", "Religious", "Cultural", "Sporting"

# Days of the month with SNAP benefits, per state (the pattern M5's calendar shows).
SNAP_DAYS: dict[str, tuple[int, ...]] = {
    "CA": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    "TX": (1, 3, 5, 6, 7, 9, 11, 12, 13, 15),
    "WI": (2, 3, 5, 6, 8, 9, 11, 12, 14, 15),
}


def snap_column(state: str) -> str:
    """Calendar column of a state's SNAP flag (``snap_CA``), as in M5."""
    return f"snap_{state}"


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The given weekday (0 = Monday) of a month, n-th counted from 0; n = -1 is the last."""
    days = pd.date_range(f"{year}-{month:02d}-01", periods=31, freq="D")
    days = days[(days.month == month) & (days.weekday == weekday)]
    return days[n].date()


def _retail_events(year: int) -> list[tuple[dt.date, str, str]]:
    """Religious, cultural and sporting events of one year: (date, name, type)."""
    east = easter(year)
    super_bowl_sunday = 2 if year >= 2022 else 1
    thanksgiving = _nth_weekday(year, 11, 3, 3)
    return [
        (_nth_weekday(year, 2, 6, super_bowl_sunday - 1), "SuperBowl", SPORTING),
        (dt.date(year, 2, 14), "ValentinesDay", CULTURAL),
        (dt.date(year, 3, 17), "StPatricksDay", CULTURAL),
        (east - dt.timedelta(days=46), "LentStart", RELIGIOUS),
        (east, "Easter", RELIGIOUS),
        (easter(year, EASTER_ORTHODOX), "OrthodoxEaster", RELIGIOUS),
        (east + dt.timedelta(days=49), "Pentecost", RELIGIOUS),
        (dt.date(year, 5, 5), "Cinco De Mayo", CULTURAL),
        (_nth_weekday(year, 5, 6, 1), "Mother's day", CULTURAL),
        (_nth_weekday(year, 6, 6, 2), "Father's day", CULTURAL),
        (_nth_weekday(year, 6, 3, 0), "NBAFinalsStart", SPORTING),
        (dt.date(year, 10, 31), "Halloween", CULTURAL),
        (thanksgiving + dt.timedelta(days=1), "BlackFriday", CULTURAL),
    ]


def event_list(first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """All events between two dates (inclusive): date, name, type; sorted by date then type."""
    years = range(first.year, last.year + 1)
    national = [
        (day, name, NATIONAL)
        for day, name in holidays.country_holidays("US", years=years).items()
        if "observed" not in name.lower()
    ]
    retail = [event for year in years for event in _retail_events(year)]
    events = pd.DataFrame(national + retail, columns=[DATE, "name", "type"])
    events[DATE] = pd.to_datetime(events[DATE])
    events = events[(events[DATE] >= first) & (events[DATE] <= last)]
    return events.sort_values([DATE, "type", "name"], ignore_index=True)


def build_calendar(dates: pd.DatetimeIndex, states: list[str]) -> pd.DataFrame:
    """Calendar frame: date, event_name/type 1 and 2 (NaN when none), snap_<STATE> per state.

    A day with more than two events keeps the first two (by type, then name).
    """
    events = event_list(dates[0], dates[-1])
    events["slot"] = events.groupby(DATE).cumcount()
    calendar = pd.DataFrame({DATE: dates})
    for slot, (name_col, type_col) in enumerate(
        [(EVENT_NAME_1, EVENT_TYPE_1), (EVENT_NAME_2, EVENT_TYPE_2)]
    ):
        chosen = events[events["slot"] == slot].set_index(DATE)
        calendar[name_col] = calendar[DATE].map(chosen["name"]).astype(object)
        calendar[type_col] = calendar[DATE].map(chosen["type"]).astype(object)
    for state in states:
        flags = np.isin(dates.day, SNAP_DAYS[state]).astype(np.int8)
        calendar[snap_column(state)] = flags
    return calendar


def event_multiplier(calendar: pd.DataFrame, uplift: dict[str, float]) -> np.ndarray:
    """True demand multiplier per calendar day: the product of its events' type uplifts."""
    multiplier = np.ones(len(calendar))
    for type_col in (EVENT_TYPE_1, EVENT_TYPE_2):
        multiplier *= calendar[type_col].map(uplift).fillna(1.0).to_numpy(dtype=float)
    return multiplier
