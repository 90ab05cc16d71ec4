"""Read a landed file into raw rows with their line numbers, or reject it as unreadable.

This is the structural half of ingestion: format, compression, encoding, delimiter, header.
A file that fails here is quarantined whole with a :class:`BadFileError` code (``empty_file``,
``wrong_encoding``, ``not_csv``, ``not_parquet``, ``unsupported_format``, ``corrupt_archive``,
``malformed_csv``, ``duplicate_columns``). Rows that cannot be split into the header's fields
are not structural: they are returned as ``malformed`` lines and quarantined row by row.

Line numbers are what a person sees in an editor (the header is line 1; a record spanning
several lines is numbered by its first). For Parquet, the ``line`` is the row number (first
row = 1).
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ml.data.layouts import canonical_column

PARQUET_MAGIC = b"PAR1"
BINARY_MAGICS = (PARQUET_MAGIC, b"PK\x03\x04", b"\x1f\x8b", b"%PDF", b"\xd0\xcf\x11\xe0")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class BadFileError(ValueError):
    """A file that cannot be ingested at all; ``code`` is stable and machine-readable."""

    code: str
    message: str
    details: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class RawTable:
    """A file's rows as read: ``frame`` (canonical column names), the ``line`` of each row, and
    the records that could not be split into the header's fields (line, verbatim text)."""

    frame: pd.DataFrame
    line: np.ndarray
    malformed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return len(self.frame) + len(self.malformed)


def read_raw(name: str, payload: bytes) -> RawTable:
    """Parse CSV (optionally gzip-compressed) or Parquet bytes."""
    lower = name.lower()
    if lower.endswith(".gz"):
        payload, lower = _gunzip(name, payload), lower[: -len(".gz")]
    if not payload.strip():
        raise BadFileError("empty_file", f"{name} is empty")
    if lower.endswith(".parquet"):
        return _read_parquet(name, payload)
    if lower.endswith(CSV_SUFFIXES):
        return _read_csv(name, payload, "\t" if lower.endswith(".tsv") else None)
    raise BadFileError(
        "unsupported_format",
        f"{name}: only .csv, .tsv, .txt and .parquet files (optionally .gz) are accepted",
    )


def _gunzip(name: str, payload: bytes) -> bytes:
    try:
        return gzip.decompress(payload)
    except (OSError, EOFError, zlib.error) as exc:
        raise BadFileError("corrupt_archive", f"{name} is not a readable gzip file: {exc}") from exc


def _read_parquet(name: str, payload: bytes) -> RawTable:
    try:
        table = pq.read_table(io.BytesIO(payload))
        frame = table.to_pandas(date_as_object=False).reset_index(drop=True)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise BadFileError("not_parquet", f"{name} is not a readable Parquet file: {exc}") from exc
    if frame.empty:
        raise BadFileError("empty_file", f"{name} has columns but no rows")
    frame.columns = _header(name, [str(c) for c in frame.columns])
    return RawTable(frame, np.arange(1, len(frame) + 1))


def _read_csv(name: str, payload: bytes, delimiter: str | None) -> RawTable:
    text = _decode(name, payload)
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise BadFileError("empty_file", f"{name} is empty")
    delimiter = delimiter or _delimiter(lines[first])
    if _is_simple(text, lines, first, delimiter):
        table = _read_simple(name, text, lines, first, delimiter)
    else:
        table = _read_quoted(name, text, delimiter)
    if table.rows_in == 0:
        raise BadFileError("empty_file", f"{name} has a header but no rows")
    return table


def _decode(name: str, payload: bytes) -> str:
    if payload.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return payload.decode("utf-16").replace("\r\n", "\n")
        except UnicodeDecodeError as exc:
            raise BadFileError("wrong_encoding", f"{name} is not valid UTF-16: {exc}") from exc
    if payload.startswith(BINARY_MAGICS) or b"\x00" in payload[:8192]:
        raise BadFileError("not_csv", f"{name} has a text file's name but binary content")
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFileError(
            "wrong_encoding",
            f"{name} is not UTF-8 (byte {exc.start}: {payload[exc.start : exc.start + 1]!r}); "
            "re-export it as UTF-8",
            {"byte_offset": exc.start},
        ) from exc
    return text.replace("\r\n", "\n")


def _delimiter(header: str) -> str:
    """The delimiter of the header line: the candidate it holds most often (comma by default)."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _is_simple(text: str, lines: list[str], first: int, delimiter: str) -> bool:
    """No quoting, no lone carriage returns, and every line has the header's field count: then
    one line is one record and pandas' C reader gives exact line numbers."""
    if '"' in text or "\r" in text:
        return False
    width = lines[first].count(delimiter)
    return all(line.count(delimiter) == width for line in lines[first:] if line.strip())


def _read_simple(name: str, text: str, lines: list[str], first: int, delimiter: str) -> RawTable:
    body = text if first == 0 else "\n".join(lines[first:])  # skip leading blank lines
    grid = pd.read_csv(
        io.StringIO(body),
        sep=delimiter,
        header=None,  # read the header as a row: pandas would rename duplicated names
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        engine="c",
    )
    header, frame = list(grid.iloc[0]), grid.iloc[1:].reset_index(drop=True)
    numbers = np.arange(first + 2, first + 2 + len(frame))
    following = lines[first + 1 : first + 1 + len(frame)]
    blank = np.array([not line.strip() for line in following], dtype=bool)
    if len(blank) != len(frame):
        blank = np.zeros(len(frame), dtype=bool)
    empty = blank | (frame.to_numpy() == "").all(axis=1) if len(frame) else blank
    frame = _named(name, frame.loc[~empty].reset_index(drop=True), header)
    return RawTable(frame, numbers[~empty])


def _read_quoted(name: str, text: str, delimiter: str) -> RawTable:
    """RFC 4180 CSV with quoting: slower, but exact about lines and bad records."""
    physical = io.StringIO(text, newline="").readlines()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header, rows, numbers, malformed = None, [], [], []
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error:  # e.g. an unclosed quote: the record's lines are kept verbatim
            malformed.append((start, "".join(physical[start - 1 : reader.line_num])))
            start = reader.line_num + 1
            continue
        if header is None:
            header = record if any(f.strip() for f in record) else None
        elif not any(f.strip() for f in record):
            pass  # a blank line or an empty record: not a row
        elif len(record) != len(header):
            malformed.append((start, "".join(physical[start - 1 : reader.line_num])))
        else:
            rows.append(record)
            numbers.append(start)
        start = reader.line_num + 1
    if header is None:
        raise BadFileError("empty_file", f"{name} has no header")
    grid = pd.DataFrame(rows, dtype=object) if rows else pd.DataFrame(columns=range(len(header)))
    frame = _named(name, grid, header)
    return RawTable(frame, np.asarray(numbers, dtype=int), malformed)


def _named(name: str, grid: pd.DataFrame, header: list[str]) -> pd.DataFrame:
    """Columns named by the header; unnamed columns that hold nothing (a trailing delimiter on
    every line, as spreadsheets export) are dropped."""
    grid = grid.set_axis(range(len(header)), axis=1)
    keep = [
        i
        for i, title in enumerate(header)
        if str(title).strip() or (grid[i].astype(str).str.strip() != "").any()
    ]
    frame = grid[keep].astype(object)
    frame.columns = _header(name, [header[i] for i in keep])
    return frame


def _header(name: str, raw: list) -> list[str]:
    columns = [canonical_column(c) for c in raw]
    if any(not c for c in columns):
        raise BadFileError(
            "malformed_csv",
            f"{name}: column {columns.index('') + 1} of the header has no name",
            {"header": [str(c) for c in raw][:30]},
        )
    seen = pd.Series(columns)
    if seen.duplicated().any():
        twice = sorted(set(seen[seen.duplicated()]))
        raise BadFileError(
            "duplicate_columns",
            f"{name}: the header names {twice} more than once (names compare case-insensitively)",
            {"header": [str(c) for c in raw][:30]},
        )
    return columns
