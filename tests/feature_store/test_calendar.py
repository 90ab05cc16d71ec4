"""Calendar features against hand-checked dates, holidays and events."""

from __future__ import annotations

import pandas as pd
import pytest

from feature_store import definitions as d
from feature_store.calendar import calendar_features
from ml.schema import DS, EVENT_NAME_1, EVENT_NAME_2, EVENT_TYPE_1, EVENT_TYPE_2, SNAP


def _days(*dates: str) -> pd.DataFrame:
    return pd.DataFrame({DS: pd.to_datetime(list(dates))})


def test_date_parts_of_known_days() -> None:
    out = calendar_features(_days("2016-02-29", "2016-01-03", "2016-07-01", "2016-12-31"))
    assert out[d.DAY_OF_WEEK].tolist() == [0, 6, 4, 5]  # Mon, Sun, Fri, Sat
    assert out[d.DAY_OF_MONTH].tolist() == [29, 3, 1, 31]
    assert out[d.DAY_OF_YEAR].tolist() == [60, 3, 183, 366]
    assert out[d.WEEK_OF_YEAR].tolist() == [9, 53, 26, 52]  # 2016-01-03 is in ISO week 53 of 2015
    assert out[d.MONTH].tolist() == [2, 1, 7, 12]
    assert out[d.QUARTER].tolist() == [1, 1, 3, 4]
    assert out[d.SEASON].tolist() == [0, 0, 2, 0]
    assert out[d.IS_WEEKEND].tolist() == [0, 1, 0, 1]
    assert out[d.IS_MONTH_START].tolist() == [0, 0, 1, 0]
    assert out[d.IS_MONTH_END].tolist() == [1, 0, 0, 1]


def test_us_holidays_and_distances() -> None:
    out = calendar_features(_days("2016-07-04", "2016-07-02", "2016-07-06", "2016-08-15"))
    assert out[d.IS_HOLIDAY].tolist() == [1, 0, 0, 0]
    # 2 July: Memorial Day (30 May) was 33 days ago -> capped; 6 July: Labor Day is 61 days on.
    assert out[d.DAYS_TO_HOLIDAY].tolist()[:3] == [0, 2, d.HOLIDAY_DISTANCE_CAP]
    assert out[d.DAYS_SINCE_HOLIDAY].tolist()[:3] == [0, d.HOLIDAY_DISTANCE_CAP, 2]
    # Labor Day 2016 is 5 September: 21 days after 15 August; 4 July is 42 days before (cap).
    assert out[d.DAYS_TO_HOLIDAY].iloc[3] == 21
    assert out[d.DAYS_SINCE_HOLIDAY].iloc[3] == d.HOLIDAY_DISTANCE_CAP


def test_country_is_configurable() -> None:
    days = _days("2016-07-04", "2016-10-03")  # US Independence Day, German Unity Day
    assert calendar_features(days, "US")[d.IS_HOLIDAY].tolist() == [1, 0]
    assert calendar_features(days, "DE")[d.IS_HOLIDAY].tolist() == [0, 1]


def test_unknown_country_fails_loudly() -> None:
    with pytest.raises(NotImplementedError):
        calendar_features(_days("2016-07-04"), "XX")


def test_event_flags_codes_and_snap() -> None:
    frame = _days("2016-02-14", "2016-02-15", "2016-03-27")
    frame[EVENT_NAME_1] = ["ValentinesDay", None, "Easter"]
    frame[EVENT_TYPE_1] = ["Cultural", None, "Cultural"]
    frame[EVENT_NAME_2] = [None, None, "OrthodoxEaster"]
    frame[EVENT_TYPE_2] = [None, None, "Religious"]
    frame[SNAP] = [0, 1, 0]
    out = calendar_features(frame)
    assert out[d.IS_EVENT].tolist() == [1, 0, 1]
    assert out[d.event_type_name("Cultural")].tolist() == [1, 0, 1]
    assert out[d.event_type_name("Religious")].tolist() == [0, 0, 1]
    assert out[d.event_type_name("National")].tolist() == [0, 0, 0]
    codes = out[d.EVENT_NAME_CODE].tolist()
    assert codes[1] == 0 and codes[0] != codes[2] and min(codes[0], codes[2]) > 0
    assert out[SNAP].tolist() == [0, 1, 0]


def test_missing_event_and_snap_columns_mean_none() -> None:
    out = calendar_features(_days("2016-02-14"))
    assert out[d.IS_EVENT].iloc[0] == 0 and out[SNAP].iloc[0] == 0
    assert out[d.EVENT_NAME_CODE].iloc[0] == 0
