"""Typed columns from raw cells, and the row problems found on the way.

Every parser takes a column as read (strings from a CSV, typed values from Parquet), returns it
typed, and flags the rows it cannot accept in a :class:`RowProblems` with a precise reason code
(the README's table). Nothing raises for a bad cell: a bad row is quarantined on its own while
the file's good rows land (``ml.data.ingest`` decides, by the share of bad rows, whether the file
as a whole is still sound).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from ml.schema import SEPARATOR

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?")
MISSING_TEXT = ("", "nan", "none", "null", "na", "n/a")
MAX_ID_LENGTH = 128
VALUE_SHOWN = 200  # characters of an offending value kept in the rejected-rows file


@dataclass(frozen=True)
class IngestLimits:
    """Bounds on accepted values (settings ``RETAILIQ_INGEST_*``)."""

    max_units: float = 1e7  # per row (store, item, day or month)
    max_price: float = 1e6
    min_date: date = date(2000, 1, 1)
    max_future_days: int = 730  # price lists and calendars may look two years ahead
    sales_max_future_days: int = 1  # sales cannot be from the future (one day of time zones)
    max_bad_row_share: float = 0.2  # above it the whole file is quarantined
    returns: str = "net"  # "net": negative units are that day's net returns; "reject"

    def __post_init__(self) -> None:
        if self.returns not in ("net", "reject"):
            raise ValueError(f"returns must be 'net' or 'reject', got {self.returns!r}")

    def date_bounds(self, *, sales: bool) -> tuple[pd.Timestamp, pd.Timestamp]:
        ahead = self.sales_max_future_days if sales else self.max_future_days
        latest = pd.Timestamp.now().normalize() + pd.Timedelta(days=ahead)
        return pd.Timestamp(self.min_date), latest


class RowProblems:
    """The first problem of each row: code, column and offending value (``None`` = good)."""

    def __init__(self, n_rows: int) -> None:
        self.bad = np.zeros(n_rows, dtype=bool)
        self.code = np.full(n_rows, None, dtype=object)
        self.column = np.full(n_rows, None, dtype=object)
        self.value = np.full(n_rows, None, dtype=object)

    def flag(self, mask, code: str, column, values: pd.Series) -> None:
        """Record ``code`` for the rows in ``mask`` that have no problem yet."""
        new = np.asarray(mask, dtype=bool) & ~self.bad
        if not new.any():
            return
        self.bad |= new
        self.code[new] = code
        self.column[new] = column[new] if isinstance(column, np.ndarray) else column
        shown = pd.Series(values.to_numpy()[new]).astype(str).str.slice(0, VALUE_SHOWN)
        self.value[new] = shown.to_numpy()

    def counts(self) -> dict[str, int]:
        codes, n = np.unique(self.code[self.bad].astype(str), return_counts=True)
        return {str(c): int(k) for c, k in zip(codes, n, strict=True)}


def is_text(values: pd.Series) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values)


def on_distinct(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn`` computed once per distinct value and spread back to every row: ids, dates and
    codes repeat a lot (3,049 items over 350,000 rows), and string work per row is slow."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
    result = fn(pd.Series(uniques, dtype=object))
    return pd.Series(result.to_numpy()[codes], index=values.index, dtype=result.dtype)


def missing_mask(values: pd.Series) -> np.ndarray:
    """Empty cells: NaN/None, or blank or 'NA'-like text."""
    if is_text(values):
        return on_distinct(values, _missing_text).to_numpy()
    return values.isna().to_numpy()


def _missing_text(distinct: pd.Series) -> pd.Series:
    return distinct.isna() | distinct.astype(str).str.strip().str.lower().isin(MISSING_TEXT)


def ids(
    values: pd.Series, column: str, problems: RowProblems, *, code: str = "missing_keys"
) -> pd.Series:
    """Store, item, department ids: present (else ``code``), printable, without the series
    separator, bounded in length."""
    text = on_distinct(values, lambda u: u.astype(str).str.strip())
    problems.flag(missing_mask(values), code, column, values)
    problems.flag(on_distinct(text, _invalid_id).to_numpy(), "invalid_id", column, values)
    return text.astype(object)


def _invalid_id(distinct: pd.Series) -> pd.Series:
    return (
        distinct.str.contains(SEPARATOR, regex=False)
        | distinct.str.contains(r"[\x00-\x1f\x7f]", regex=True)
        | (distinct.str.len() > MAX_ID_LENGTH)
    )


def dates(
    values: pd.Series,
    column: str,
    problems: RowProblems,
    bounds: tuple[pd.Timestamp, pd.Timestamp],
    *,
    key: bool = True,
) -> pd.Series:
    """Calendar dates: ISO ``YYYY-MM-DD`` text (a time part is dropped) or date/timestamp
    values; numbers such as ``20240101`` are not dates."""
    problems.flag(missing_mask(values), "missing_keys" if key else "missing_values", column, values)
    parsed = _as_dates(values)
    problems.flag(parsed.isna().to_numpy(), "unparseable_dates", column, values)
    outside = ((parsed < bounds[0]) | (parsed > bounds[1])).to_numpy()
    problems.flag(outside, "dates_out_of_range", column, values)
    return parsed


def _as_dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        return values.astype("datetime64[ns]").dt.normalize()
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    return on_distinct(values, _parse_date_text)


def _parse_date_text(distinct: pd.Series) -> pd.Series:
    text = distinct.map(_date_text).astype(str).str.strip()
    iso = text.str.fullmatch(ISO_DATE.pattern)
    parsed = pd.to_datetime(text.str.slice(0, 10).where(iso), format="%Y-%m-%d", errors="coerce")
    return parsed.astype("datetime64[ns]")


def _date_text(value: object) -> object:
    """Parquet ``date32`` arrives as ``datetime.date``; anything else keeps its text."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def numbers(values: pd.Series, column: str, problems: RowProblems, *, required: bool) -> pd.Series:
    """Finite floats; empty cells are NaN (``missing_values`` where ``required``)."""
    missing = missing_mask(values)
    if pd.api.types.is_bool_dtype(values):
        parsed = pd.Series(np.nan, index=values.index)
        missing = np.zeros(len(values), dtype=bool)
    elif pd.api.types.is_numeric_dtype(values):
        parsed = values.astype("float64")
    else:
        parsed = on_distinct(values, _parse_number_text).where(~missing).astype("float64")
    if required:
        problems.flag(missing, "missing_values", column, values)
    problems.flag(parsed.isna().to_numpy() & ~missing, "unparseable_numbers", column, values)
    return parsed


def _parse_number_text(distinct: pd.Series) -> pd.Series:
    return pd.to_numeric(distinct.astype(str).str.strip(), errors="coerce").astype("float64")


def units(values: pd.Series, column: str, problems: RowProblems, limits: IngestLimits) -> pd.Series:
    """Whole units, at most ``max_units`` in magnitude; negative only as net returns."""
    parsed = numbers(values, column, problems, required=True)
    finite = np.isfinite(parsed.to_numpy())
    too_big = ~finite | (parsed.abs() > limits.max_units).to_numpy()
    problems.flag(too_big & parsed.notna().to_numpy(), "units_out_of_range", column, values)
    problems.flag((parsed % 1 != 0).to_numpy() & finite, "fractional_units", column, values)
    if limits.returns == "reject":
        problems.flag((parsed < 0).to_numpy(), "negative_units", column, values)
    return parsed


def prices(
    values: pd.Series,
    column: str,
    problems: RowProblems,
    limits: IngestLimits,
    *,
    required: bool,
) -> pd.Series:
    """Prices strictly above 0 and at most ``max_price``."""
    parsed = numbers(values, column, problems, required=required)
    problems.flag((parsed <= 0).to_numpy(), "non_positive_price", column, values)
    too_big = (parsed > limits.max_price).to_numpy() | np.isinf(parsed.to_numpy())
    problems.flag(too_big, "price_out_of_range", column, values)
    return parsed


def costs(values: pd.Series, column: str, problems: RowProblems, limits: IngestLimits) -> pd.Series:
    """Unit costs: 0 or more and at most ``max_price``; empty means unknown."""
    parsed = numbers(values, column, problems, required=False)
    bad = (parsed < 0).to_numpy() | (parsed > limits.max_price).to_numpy()
    problems.flag(bad | np.isinf(parsed.to_numpy()), "cost_out_of_range", column, values)
    return parsed


def whole_numbers(
    values: pd.Series, column: str, problems: RowProblems, low: int, high: int, code: str
) -> pd.Series:
    """Integers within ``[low, high]`` (week numbers, days in a month)."""
    parsed = numbers(values, column, problems, required=True)
    outside = (parsed < low) | (parsed > high) | (parsed % 1 != 0)
    problems.flag(outside.to_numpy() & parsed.notna().to_numpy(), code, column, values)
    return parsed


def flags(values: pd.Series, column: str, problems: RowProblems) -> pd.Series:
    """0/1 flags (SNAP); empty means unknown."""
    parsed = numbers(values, column, problems, required=False)
    invalid = ~parsed.isin([0, 1]).to_numpy() & parsed.notna().to_numpy()
    problems.flag(invalid, "invalid_flag", column, values)
    return parsed


def labels(values: pd.Series) -> pd.Series:
    """Free text such as event names: stripped, empty cells as None."""
    text = on_distinct(values, lambda u: u.astype(str).str.strip())
    return text.astype(object).where(~missing_mask(values), None)
