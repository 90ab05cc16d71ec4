"""Read a landed file, recognise what it is, and normalise it to a canonical table.

Recognised layouts (by columns, so file names are free):

=================  =====================================================  ==============
kind               columns                                                lake table
=================  =====================================================  ==============
sales              date, store_id, item_id, units[, price, dept, cat]     sales
m5_sales_wide      id, item_id, dept_id, cat_id, store_id, state_id, d_*  sales
prices             date, store_id, item_id, price                         prices
m5_prices          store_id, item_id, wm_yr_wk, sell_price                prices
calendar           date[, event_*, snap_*, d, wm_yr_wk, ...]              calendar
products           item_id, dept_id, cat_id[, unit_cost]                  products
sales_monthly      month_start, store_id, item_id, units[, n_days]        sales_monthly
=================  =====================================================  ==============

Anything wrong with a file raises :class:`BadFileError` with a machine-readable ``code``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ml.data import m5
from ml.schema import (
    CAT_ID,
    DATE,
    DEPT_ID,
    EVENT_COLUMNS,
    ITEM_ID,
    PRICE,
    STORE_ID,
    UNIT_COST,
    UNITS,
)

MONTH_START = "month_start"
N_DAYS = "n_days"
PARQUET_MAGIC = b"PAR1"
BINARY_MAGICS = (PARQUET_MAGIC, b"PK\x03\x04", b"\x1f\x8b", b"%PDF", b"\xd0\xcf\x11\xe0")
EXAMPLES = 5

TABLE_OF_KIND = {
    "sales": "sales",
    "m5_sales_wide": "sales",
    "prices": "prices",
    "m5_prices": "prices",
    "calendar": "calendar",
    "products": "products",
    "sales_monthly": "sales_monthly",
}
# Kinds whose keys resolve to dates only through a calendar (M5 day and week numbers).
NEEDS_CALENDAR = {"m5_sales_wide", "m5_prices"}
# Order within a batch so that calendars and catalogues land before what refers to them.
KIND_ORDER = [
    "calendar",
    "products",
    "prices",
    "m5_prices",
    "sales",
    "m5_sales_wide",
    "sales_monthly",
]


@dataclass
class BadFileError(ValueError):
    """A file that cannot be ingested; ``code`` is stable and machine-readable."""

    code: str
    message: str
    details: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class CalendarRequiredError(RuntimeError):
    """An M5 file whose day/week keys need a calendar that has not landed yet (retried later)."""


def read_frame(name: str, payload: bytes) -> pd.DataFrame:
    """Parse CSV or Parquet bytes into a frame of strings (CSV) or typed columns (Parquet)."""
    if not payload.strip():
        raise BadFileError("empty_file", f"{name} is empty")
    if name.lower().endswith(".parquet"):
        return _read_parquet(name, payload)
    if name.lower().endswith((".csv", ".txt")):
        return _read_csv(name, payload)
    raise BadFileError("unsupported_format", f"{name}: only .csv and .parquet files are accepted")


def _read_parquet(name: str, payload: bytes) -> pd.DataFrame:
    try:
        frame = pq.read_table(io.BytesIO(payload)).to_pandas()
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise BadFileError("not_parquet", f"{name} is not a readable Parquet file: {exc}") from exc
    if frame.empty:
        raise BadFileError("empty_file", f"{name} has a header but no rows")
    return frame


def _read_csv(name: str, payload: bytes) -> pd.DataFrame:
    if payload.startswith(BINARY_MAGICS) or b"\x00" in payload[:8192]:
        raise BadFileError("not_csv", f"{name} has a .csv name but binary content")
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFileError(
            "wrong_encoding",
            f"{name} is not UTF-8 (byte {exc.start}: {payload[exc.start : exc.start + 1]!r}); "
            "re-export it as UTF-8",
        ) from exc
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise BadFileError("malformed_csv", f"{name} is not well-formed CSV: {exc}") from exc
    if frame.empty:
        raise BadFileError("empty_file", f"{name} has a header but no rows")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def detect_kind(columns: list[str]) -> str:
    """The layout a set of columns follows (see the module table)."""
    cols = set(columns)
    if {"id", ITEM_ID, STORE_ID} <= cols and any(c.startswith("d_") for c in cols):
        return "m5_sales_wide"
    if {STORE_ID, ITEM_ID, m5.M5_WEEK, m5.M5_PRICE} <= cols:
        return "m5_prices"
    if {MONTH_START, STORE_ID, ITEM_ID, UNITS} <= cols:
        return "sales_monthly"
    if {DATE, STORE_ID, ITEM_ID, UNITS} <= cols:
        return "sales"
    if {DATE, STORE_ID, ITEM_ID, PRICE} <= cols:
        return "prices"
    if {ITEM_ID, DEPT_ID, CAT_ID} <= cols and DATE not in cols:
        return "products"
    if DATE in cols and STORE_ID not in cols and ITEM_ID not in cols:
        return "calendar"
    raise BadFileError(
        "unknown_layout",
        "columns match no accepted layout (sales: date, store_id, item_id, units[, price]; "
        "prices: date, store_id, item_id, price; calendar: date, events, snap_*; "
        "products: item_id, dept_id, cat_id[, unit_cost]; or the M5 files)",
        {"columns": sorted(cols)[:30]},
    )


def normalise(kind: str, frame: pd.DataFrame, calendar: pd.DataFrame | None) -> pd.DataFrame:
    """Typed canonical table for ``kind``; ``calendar`` is the lake calendar (M5 kinds need it)."""
    if kind in NEEDS_CALENDAR and (calendar is None or m5.M5_DAY not in calendar):
        raise CalendarRequiredError(f"{kind} needs the M5 calendar (calendar.csv) to land first")
    return NORMALISERS[kind](frame, calendar)


def _sales(frame: pd.DataFrame, calendar: pd.DataFrame | None) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            DATE: _dates(frame[DATE], DATE),
            STORE_ID: _ids(frame[STORE_ID], STORE_ID),
            ITEM_ID: _ids(frame[ITEM_ID], ITEM_ID),
            UNITS: _numbers(frame[UNITS], UNITS, required=True),
            PRICE: _numbers(frame[PRICE], PRICE) if PRICE in frame else np.nan,
        }
    )
    for column in (DEPT_ID, CAT_ID):
        out[column] = frame[column].astype(str).to_numpy() if column in frame else None
    return out


def _m5_sales_wide(frame: pd.DataFrame, calendar: pd.DataFrame) -> pd.DataFrame:
    day_columns = [c for c in frame.columns if c.startswith("d_")]
    for column in day_columns:
        frame[column] = _numbers(frame[column], column, required=True)
    return _sales(m5.normalise_wide_sales(frame, calendar), None)


def _prices(frame: pd.DataFrame, calendar: pd.DataFrame | None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            DATE: _dates(frame[DATE], DATE),
            STORE_ID: _ids(frame[STORE_ID], STORE_ID),
            ITEM_ID: _ids(frame[ITEM_ID], ITEM_ID),
            PRICE: _numbers(frame[PRICE], PRICE, required=True),
        }
    )


def _m5_prices(frame: pd.DataFrame, calendar: pd.DataFrame) -> pd.DataFrame:
    typed = frame.assign(
        **{
            m5.M5_WEEK: _numbers(frame[m5.M5_WEEK], m5.M5_WEEK, required=True).astype("int64"),
            m5.M5_PRICE: _numbers(frame[m5.M5_PRICE], m5.M5_PRICE, required=True),
        }
    )
    try:
        return m5.normalise_prices(typed, calendar)
    except ValueError as exc:
        raise BadFileError("unknown_keys", str(exc)) from exc


def _calendar(frame: pd.DataFrame, calendar: pd.DataFrame | None) -> pd.DataFrame:
    out = pd.DataFrame({DATE: _dates(frame[DATE], DATE)})
    for column in EVENT_COLUMNS:
        if column in frame:
            values = frame[column].astype(object)
            out[column] = values.where(values.notna() & (values != ""), None).to_numpy()
    for column in [c for c in frame.columns if c.startswith("snap")]:
        out[column] = _numbers(frame[column], column, required=True).astype("int8").to_numpy()
    if m5.M5_DAY in frame:
        out[m5.M5_DAY] = frame[m5.M5_DAY].astype(str).to_numpy()
    if m5.M5_WEEK in frame:
        weeks = _numbers(frame[m5.M5_WEEK], m5.M5_WEEK, required=True)
        out[m5.M5_WEEK] = weeks.astype("int64").to_numpy()
    return out


def _products(frame: pd.DataFrame, calendar: pd.DataFrame | None) -> pd.DataFrame:
    out = pd.DataFrame({c: _ids(frame[c], c) for c in (ITEM_ID, DEPT_ID, CAT_ID)})
    out[UNIT_COST] = _numbers(frame[UNIT_COST], UNIT_COST) if UNIT_COST in frame else np.nan
    return out


def _sales_monthly(frame: pd.DataFrame, calendar: pd.DataFrame | None) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            MONTH_START: _dates(frame[MONTH_START], MONTH_START),
            STORE_ID: _ids(frame[STORE_ID], STORE_ID),
            ITEM_ID: _ids(frame[ITEM_ID], ITEM_ID),
            UNITS: _numbers(frame[UNITS], UNITS, required=True),
        }
    )
    out[N_DAYS] = _numbers(frame[N_DAYS], N_DAYS) if N_DAYS in frame else np.nan
    return out


NORMALISERS = {
    "sales": _sales,
    "m5_sales_wide": _m5_sales_wide,
    "prices": _prices,
    "m5_prices": _m5_prices,
    "calendar": _calendar,
    "products": _products,
    "sales_monthly": _sales_monthly,
}


def _bad_rows(values: pd.Series, mask: pd.Series) -> list[dict]:
    """First offending rows, numbered as a person sees them in the file (header is line 1)."""
    rows = values[mask].head(EXAMPLES)
    return [{"line": int(i) + 2, "value": str(v)} for i, v in rows.items()]


def _dates(values: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_localize(None).dt.normalize() if values.dt.tz else values.dt.normalize()
    text = values.astype(str).str.strip()
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    bad = parsed.isna()
    if bad.any():
        raise BadFileError(
            "unparseable_dates",
            f"{int(bad.sum())} values in {column!r} are not ISO dates (YYYY-MM-DD)",
            {"column": column, "rows": _bad_rows(values, bad)},
        )
    return parsed.dt.normalize()


def _numbers(values: pd.Series, column: str, *, required: bool = False) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        parsed = values.astype("float64")
        missing = parsed.isna()
    else:
        text = values.astype(str).str.strip()
        parsed = pd.to_numeric(text, errors="coerce")
        missing = text.eq("") | text.str.lower().isin(["nan", "none", "null"])
        bad = parsed.isna() & ~missing
        if bad.any():
            raise BadFileError(
                "unparseable_numbers",
                f"{int(bad.sum())} values in {column!r} are not numbers",
                {"column": column, "rows": _bad_rows(values, bad)},
            )
    if required and missing.any():
        raise BadFileError(
            "missing_values",
            f"{int(missing.sum())} rows have no value in required column {column!r}",
            {"column": column, "rows": _bad_rows(values, missing)},
        )
    return parsed.astype("float64")


def _ids(values: pd.Series, column: str) -> pd.Series:
    text = values.astype(str).str.strip()
    blank = text.eq("") | values.isna()
    if blank.any():
        raise BadFileError(
            "missing_values",
            f"{int(blank.sum())} rows have an empty {column!r}",
            {"column": column, "rows": _bad_rows(values, blank)},
        )
    return text
