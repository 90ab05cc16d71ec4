"""Raw rows of a recognised layout -> the canonical typed rows of its lake table.

Each row is checked on its own (``ml.data.cells``); the result keeps every row, aligned with
the file's lines, plus the first problem of each bad one, so ingestion can land the good rows and
quarantine the rest with their line numbers. Only the columns the file carried are returned: the
lake merges files by column, so a column a file does not carry is never overwritten.

Keys that appear twice in one file are ambiguous (which row is right?): every row of such a key
is rejected as ``duplicate_keys``. Across files, the newer file wins (``ml.data.lake``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.data import cells
from ml.data.cells import IngestLimits, RowProblems
from ml.data.lake import TABLE_KEYS
from ml.data.layouts import (
    M5_DAY,
    M5_DAY_COLUMN,
    MONTH_START,
    N_DAYS,
    RETAIL_WEEK,
    SNAP_STATE,
    WEEK_START,
    Layout,
)
from ml.data.m5 import day_index, week_starts
from ml.data.parsing import RawTable
from ml.schema import (
    CAT_ID,
    DATE,
    DEPT_ID,
    EVENT_COLUMNS,
    ITEM_ID,
    PRICE,
    SNAP,
    STORE_ID,
    UNIT_COST,
    UNITS,
)

MAX_RETAIL_WEEK = 10**7
HIERARCHY = (DEPT_ID, CAT_ID)


class CalendarRequiredError(RuntimeError):
    """A file whose day or week numbers need a calendar that has not landed yet (retried)."""


@dataclass
class Normalised:
    """Canonical rows (``frame``), the ``line`` each came from, the raw cells (for the
    rejected-rows file) and the first problem of each row."""

    frame: pd.DataFrame
    line: np.ndarray
    raw: pd.DataFrame
    problems: RowProblems

    @property
    def good(self) -> np.ndarray:
        return ~self.problems.bad


def normalise(
    layout: Layout, raw: RawTable, calendar: pd.DataFrame | None, limits: IngestLimits
) -> Normalised:
    """Typed, checked rows of ``raw`` under ``layout``; ``calendar`` is the lake's calendar."""
    if layout.needs_calendar and not _calendar_has(calendar, layout.needs_calendar):
        raise CalendarRequiredError(
            f"{layout.name} files need a calendar with a {layout.needs_calendar!r} column "
            "(e.g. the M5 calendar.csv); the file waits in the landing zone until one lands"
        )
    frame = raw.frame.set_axis(layout.rename(list(raw.frame.columns)), axis=1)
    if layout.name == "m5_sales_wide":
        frame, line = _melt_days(frame, raw.line)
    else:
        line = raw.line
    problems = RowProblems(len(frame))
    typed = NORMALISERS[layout.name](frame, problems, calendar, limits)
    _flag_duplicates(typed, TABLE_KEYS[layout.table], problems)
    return Normalised(typed, line, frame, problems)


def _calendar_has(calendar: pd.DataFrame | None, column: str) -> bool:
    return calendar is not None and column in calendar and calendar[column].notna().any()


def _flag_duplicates(frame: pd.DataFrame, keys: list[str], problems: RowProblems) -> None:
    good = ~problems.bad
    duplicated = frame[keys][good].duplicated(keep=False)
    mask = np.zeros(len(frame), dtype=bool)
    mask[np.flatnonzero(good)[duplicated.to_numpy()]] = True
    shown = frame[keys].astype(str).agg(" / ".join, axis=1) if mask.any() else frame[keys[0]]
    problems.flag(mask, "duplicate_keys", ", ".join(keys), shown)


def _hierarchy(frame: pd.DataFrame, out: dict) -> None:
    for column in HIERARCHY:
        if column in frame:
            out[column] = cells.labels(frame[column]).to_numpy()


def _sales(frame, problems, calendar, limits) -> pd.DataFrame:
    dates = cells.dates(frame[DATE], DATE, problems, limits.date_bounds(sales=True))
    return _sales_rows(frame, problems, limits, dates)


def _sales_rows(frame, problems, limits, dates: pd.Series) -> pd.DataFrame:
    out = {
        DATE: dates,
        STORE_ID: cells.ids(frame[STORE_ID], STORE_ID, problems),
        ITEM_ID: cells.ids(frame[ITEM_ID], ITEM_ID, problems),
        UNITS: cells.units(frame[UNITS], _column(frame, UNITS), problems, limits),
    }
    if PRICE in frame:
        out[PRICE] = cells.prices(frame[PRICE], PRICE, problems, limits, required=False)
    _hierarchy(frame, out)
    return pd.DataFrame(out)


def _column(frame: pd.DataFrame, name: str):
    """The column a problem is reported in: wide M5 sales report the ``d_<n>`` of the cell."""
    return frame["_day_column"].to_numpy() if "_day_column" in frame else name


def _melt_days(wide: pd.DataFrame, line: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """M5 wide sales (one column per ``d_<n>``) as one row per item and day."""
    days = [c for c in wide.columns if M5_DAY_COLUMN.fullmatch(c)]
    ids = [STORE_ID, ITEM_ID, DEPT_ID, CAT_ID]
    long = pd.DataFrame({c: np.tile(wide[c].to_numpy(), len(days)) for c in ids})
    long["_day_column"] = np.repeat(np.array(days, dtype=object), len(wide))
    long[UNITS] = np.concatenate([wide[d].to_numpy(dtype=object) for d in days])
    return long, np.tile(line, len(days))


def _m5_sales_wide(frame, problems, calendar, limits) -> pd.DataFrame:
    lookup = day_index(calendar)
    day = frame["_day_column"]
    known = day.isin(lookup.index).to_numpy()
    problems.flag(~known, "unknown_keys", day.to_numpy(), day)
    return _sales_rows(frame, problems, limits, day.map(lookup).astype("datetime64[ns]"))


def _price_list(frame, problems, limits, dates: pd.Series) -> pd.DataFrame:
    out = {
        DATE: dates,
        STORE_ID: cells.ids(frame[STORE_ID], STORE_ID, problems),
        ITEM_ID: cells.ids(frame[ITEM_ID], ITEM_ID, problems),
        PRICE: cells.prices(frame[PRICE], PRICE, problems, limits, required=True),
    }
    return pd.DataFrame(out)


def _prices(frame, problems, calendar, limits) -> pd.DataFrame:
    bounds = limits.date_bounds(sales=False)
    return _price_list(frame, problems, limits, cells.dates(frame[DATE], DATE, problems, bounds))


def _prices_weekly(frame, problems, calendar, limits) -> pd.DataFrame:
    bounds = limits.date_bounds(sales=False)
    starts = cells.dates(frame[WEEK_START], WEEK_START, problems, bounds)
    return _price_list(frame, problems, limits, starts)


def _prices_by_week(frame, problems, calendar, limits) -> pd.DataFrame:
    weeks = cells.whole_numbers(
        frame[RETAIL_WEEK], RETAIL_WEEK, problems, 1, MAX_RETAIL_WEEK, "unparseable_numbers"
    )
    starts = week_starts(calendar)
    problems.flag(
        ~weeks.isin(starts.index).to_numpy(), "unknown_keys", RETAIL_WEEK, frame[RETAIL_WEEK]
    )
    return _price_list(frame, problems, limits, weeks.map(starts).astype("datetime64[ns]"))


def _calendar(frame, problems, calendar, limits) -> pd.DataFrame:
    bounds = limits.date_bounds(sales=False)
    out = {DATE: cells.dates(frame[DATE], DATE, problems, bounds)}
    if M5_DAY in frame:
        day = frame[M5_DAY].astype(str).str.strip()
        problems.flag(
            ~day.str.fullmatch(M5_DAY_COLUMN.pattern).to_numpy(), "invalid_id", M5_DAY, day
        )
        out[M5_DAY] = day.to_numpy()
    if RETAIL_WEEK in frame:
        out[RETAIL_WEEK] = cells.whole_numbers(
            frame[RETAIL_WEEK], RETAIL_WEEK, problems, 1, MAX_RETAIL_WEEK, "unparseable_numbers"
        ).to_numpy()
    for column in [c for c in EVENT_COLUMNS if c in frame]:
        out[column] = cells.labels(frame[column]).to_numpy()
    for column in [c for c in frame.columns if c == SNAP or SNAP_STATE.fullmatch(c)]:
        out[column] = cells.flags(frame[column], column, problems).astype("float32").to_numpy()
    return pd.DataFrame(out)


def _products(frame, problems, calendar, limits) -> pd.DataFrame:
    out = {ITEM_ID: cells.ids(frame[ITEM_ID], ITEM_ID, problems)}
    for column in HIERARCHY:
        out[column] = cells.ids(frame[column], column, problems, code="missing_values")
    if UNIT_COST in frame:
        out[UNIT_COST] = cells.costs(frame[UNIT_COST], UNIT_COST, problems, limits)
    return pd.DataFrame(out)


def _sales_monthly(frame, problems, calendar, limits) -> pd.DataFrame:
    bounds = limits.date_bounds(sales=True)
    months = cells.dates(frame[MONTH_START], MONTH_START, problems, bounds)
    problems.flag(
        (months.dt.day != 1).to_numpy() & months.notna().to_numpy(),
        "not_month_start",
        MONTH_START,
        frame[MONTH_START],
    )
    out = {
        MONTH_START: months,
        STORE_ID: cells.ids(frame[STORE_ID], STORE_ID, problems),
        ITEM_ID: cells.ids(frame[ITEM_ID], ITEM_ID, problems),
        UNITS: cells.units(frame[UNITS], UNITS, problems, limits),
    }
    if N_DAYS in frame:
        out[N_DAYS] = cells.whole_numbers(
            frame[N_DAYS], N_DAYS, problems, 1, 31, "n_days_out_of_range"
        )
    _hierarchy(frame, out)
    return pd.DataFrame(out)


NORMALISERS = {
    "sales": _sales,
    "m5_sales_wide": _m5_sales_wide,
    "prices": _prices,
    "prices_weekly": _prices_weekly,
    "prices_by_week": _prices_by_week,
    "calendar": _calendar,
    "products": _products,
    "sales_monthly": _sales_monthly,
}
