"""Ingest what has landed: every file gets exactly one outcome, good rows land, bad rows don't.

The landing zone is anything with ``list_files``, ``read``, ``quarantine`` and
``record_rejections`` (a local folder or an S3 prefix: ``ml.data.landing``). Files are identified
by the SHA-256 of their content, so a file dropped again under any name adds nothing.

A file's outcome is one of:

* ``ingested`` -- every row landed;
* ``partially_ingested`` -- its structure is sound and most rows are good: the good rows landed,
  the bad ones went to ``<quarantine>/<checksum>__<name>.rejected.csv`` (line, code, column,
  value, then the row), with ``.reason.json`` beside it; the file stays where it was dropped;
* ``quarantined`` -- unreadable, of no known layout, or with more bad rows than
  ``IngestLimits.max_bad_row_share``: moved to quarantine whole, with its reason (and its bad
  rows, when it had readable rows);
* ``already_ingested`` -- the same bytes landed before (under any name, or twice in one batch);
* ``deferred`` -- M5 day or week numbers that need a calendar not landed yet (retried each run);
* ``skipped`` -- operating-system metadata or an upload still in progress (``skip_reason``).
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, field, replace
from typing import Protocol

import pandas as pd

from ml.data.cells import IngestLimits
from ml.data.lake import Lake, LedgerEntry
from ml.data.landing import display_name, skip_reason
from ml.data.layouts import LAYOUT_ORDER, Layout, LayoutError, detect_layout
from ml.data.normalise import CalendarRequiredError, Normalised, normalise
from ml.data.parsing import BadFileError, RawTable, read_raw
from ml.schema import UNITS

log = logging.getLogger(__name__)

INGESTED, PARTIAL, QUARANTINED = "ingested", "partially_ingested", "quarantined"
ALREADY, DEFERRED, SKIPPED = "already_ingested", "deferred", "skipped"
EXAMPLES = 5


class LandingSource(Protocol):
    def list_files(self) -> list[str]: ...

    def read(self, key: str) -> bytes: ...

    def quarantine(self, key: str, reason: dict, rejected_rows: bytes | None = None) -> str: ...

    def record_rejections(self, key: str, reason: dict, rejected_rows: bytes) -> str: ...


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one landed file, with its row counts."""

    key: str
    status: str
    checksum: str | None = None
    layout: str | None = None
    table: str | None = None
    rows_in: int = 0
    rows_landed: int = 0
    rows_rejected: int = 0
    rejected_by_code: dict[str, int] = field(default_factory=dict)
    returns_rows: int = 0  # landed rows with negative units (net returns)
    code: str | None = None
    message: str = ""
    moved_to: str | None = None  # the quarantined file, or the rejected-rows file


@dataclass
class IngestionReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def with_status(self, *statuses: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status in statuses]

    @property
    def ingested(self) -> list[FileOutcome]:
        """Files that landed rows (wholly or partly)."""
        return self.with_status(INGESTED, PARTIAL)

    @property
    def quarantined(self) -> list[FileOutcome]:
        return self.with_status(QUARANTINED)

    @property
    def rejected_rows(self) -> int:
        return sum(o.rows_rejected for o in self.ingested)


@dataclass
class _Landed:
    key: str
    checksum: str
    raw: RawTable
    layout: Layout


def checksum_of(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def new_files(source: LandingSource, lake: Lake) -> dict[str, str]:
    """Key -> checksum of every landed file the ledger has not seen (for the sensor)."""
    seen = lake.ingested_checksums()
    keys = [key for key in source.list_files() if skip_reason(key) is None]
    found = {key: checksum_of(source.read(key)) for key in keys}
    return {key: digest for key, digest in found.items() if digest not in seen}


def ingest_pending(
    source: LandingSource, lake: Lake, limits: IngestLimits | None = None
) -> IngestionReport:
    """Ingest every new file in the landing zone; calendars and catalogues first."""
    limits = limits or IngestLimits()
    report = IngestionReport()
    with lake.writing():
        landed = _read_new(source, lake, report)
        for item in sorted(landed, key=lambda f: (LAYOUT_ORDER.index(f.layout.name), f.key)):
            report.outcomes.append(_outcome_of(item, source, lake, limits))
    return report


def _read_new(source: LandingSource, lake: Lake, report: IngestionReport) -> list[_Landed]:
    """Read and recognise every new file; outcomes for the ones that end here."""
    seen = lake.ingested_checksums()
    landed = []
    for key in sorted(source.list_files()):
        name = display_name(key)
        if (why := skip_reason(key)) is not None:
            report.outcomes.append(FileOutcome(name, SKIPPED, message=why))
            continue
        try:
            payload = source.read(key)
        except FileNotFoundError:  # removed between listing and reading: nothing to ingest
            report.outcomes.append(FileOutcome(name, SKIPPED, message="removed before reading"))
            continue
        checksum = checksum_of(payload)
        if checksum in seen:
            report.outcomes.append(FileOutcome(name, ALREADY, checksum))
            continue
        try:
            raw = read_raw(key, payload)
            landed.append(_Landed(key, checksum, raw, detect_layout(list(raw.frame.columns))))
        except (BadFileError, LayoutError) as error:
            report.outcomes.append(_quarantine(source, lake, key, checksum, _bad_file(error)))
    return landed


def _bad_file(error: Exception) -> BadFileError:
    if isinstance(error, LayoutError):
        return BadFileError("unknown_layout", str(error), error.details)
    return error


def _outcome_of(item: _Landed, source: LandingSource, lake: Lake, limits) -> FileOutcome:
    name = display_name(item.key)
    if lake.has(item.checksum):  # the same content twice in one batch
        return FileOutcome(name, ALREADY, item.checksum)
    try:
        calendar = lake.read_table("calendar") if item.layout.needs_calendar else None
        rows = normalise(item.layout, item.raw, calendar, limits)
    except CalendarRequiredError as error:
        log.warning("deferring %s: %s", name, error)
        return FileOutcome(name, DEFERRED, item.checksum, item.layout.name, message=str(error))
    return _land(item, rows, source, lake, limits)


def _land(item: _Landed, rows: Normalised, source, lake: Lake, limits) -> FileOutcome:
    """Commit the good rows, or quarantine the file when too many rows are bad."""
    counts = _rejected_by_code(rows, item.raw)
    rows_in, n_bad = len(rows.frame) + len(item.raw.malformed), sum(counts.values())
    base = FileOutcome(
        display_name(item.key),
        INGESTED,
        item.checksum,
        item.layout.name,
        item.layout.table,
        rows_in,
        rows_in - n_bad,
        n_bad,
        counts,
    )
    rejected = _rejected_rows(rows, item.raw) if n_bad else None
    if n_bad == rows_in or n_bad > limits.max_bad_row_share * rows_in:
        error = _too_many_bad_rows(base, rejected, limits)
        outcome = _quarantine(source, lake, item.key, item.checksum, error, rejected, base)
        return replace(outcome, rows_landed=0)
    good = rows.frame[rows.good].reset_index(drop=True)
    moved_to = None
    if rejected is not None:
        reason = _partial_reason(base, rejected)
        moved_to = source.record_rejections(item.key, reason, _csv_bytes(rejected))
    entry = LedgerEntry(
        item.checksum,
        base.key,
        base.layout,
        base.table,
        len(good),
        rows_in,
        n_bad,
        counts,
        moved_to,
    )
    lake.commit(entry, good)
    status = PARTIAL if n_bad else INGESTED
    returns = int((good[UNITS] < 0).sum()) if UNITS in good else 0
    log.info(
        "%s %s as %s: %d rows landed, %d rejected", status, base.key, base.layout, len(good), n_bad
    )
    return replace(base, status=status, returns_rows=returns, moved_to=moved_to)


def _rejected_by_code(rows: Normalised, raw: RawTable) -> dict[str, int]:
    counts = rows.problems.counts()
    if raw.malformed:
        counts["malformed_row"] = len(raw.malformed)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _rejected_rows(rows: Normalised, raw: RawTable) -> pd.DataFrame:
    """One line per rejected row: where, why, the offending value, then the row as read."""
    bad = rows.problems.bad
    cells = rows.raw[bad].rename(columns={"_day_column": "d"}).reset_index(drop=True)
    head = pd.DataFrame(
        {
            "line": rows.line[bad],
            "code": rows.problems.code[bad],
            "column": rows.problems.column[bad],
            "value": rows.problems.value[bad],
        }
    )
    malformed = pd.DataFrame(
        {
            "line": [line for line, _ in raw.malformed],
            "code": "malformed_row",
            "column": "",
            "value": [text for _, text in raw.malformed],
        }
    )
    table = pd.concat([pd.concat([head, cells.astype(str)], axis=1), malformed])
    table["line"] = table["line"].astype("int64")
    return table.sort_values("line", kind="stable").reset_index(drop=True)


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8", "backslashreplace")


def _examples(rejected: pd.DataFrame) -> list[dict]:
    first = rejected[["line", "code", "column", "value"]].head(EXAMPLES)
    return [
        {k: (int(v) if k == "line" else str(v)) for k, v in r.items()}
        for r in first.to_dict("records")
    ]


def _too_many_bad_rows(base: FileOutcome, rejected: pd.DataFrame, limits) -> BadFileError:
    share = base.rows_rejected / max(base.rows_in, 1)
    summary = ", ".join(f"{code} {n:,}" for code, n in base.rejected_by_code.items())
    code = next(iter(base.rejected_by_code))
    message = (
        f"{base.rows_rejected:,} of {base.rows_in:,} rows ({share:.0%}) are bad, above the "
        f"{limits.max_bad_row_share:.0%} limit, so the file is held back whole: {summary}"
    )
    details = {
        "rows_in": base.rows_in,
        "rejected_by_code": base.rejected_by_code,
        "rows": _examples(rejected),
    }
    return BadFileError(code, message, details)


def _partial_reason(base: FileOutcome, rejected: pd.DataFrame) -> dict:
    return {
        "file": base.key,
        "checksum": base.checksum,
        "outcome": PARTIAL,
        "layout": base.layout,
        "rows_in": base.rows_in,
        "rows_landed": base.rows_landed,
        "rows_rejected": base.rows_rejected,
        "rejected_by_code": base.rejected_by_code,
        "first_rejected": _examples(rejected),
    }


def _quarantine(
    source: LandingSource,
    lake: Lake,
    key: str,
    checksum: str,
    error: BadFileError,
    rejected: pd.DataFrame | None = None,
    base: FileOutcome | None = None,
) -> FileOutcome:
    name = display_name(key)
    base = base or FileOutcome(name, QUARANTINED, checksum)
    reason = {
        "file": name,
        "checksum": checksum,
        "outcome": QUARANTINED,
        "code": error.code,
        "message": error.message,
        "details": error.details,
    }
    rows = _csv_bytes(rejected) if rejected is not None else None
    moved_to = source.quarantine(key, reason, rows)
    lake.record_quarantine(
        checksum,
        name,
        error.code,
        error.message,
        error.details,
        base.rows_in,
        base.rejected_by_code,
    )
    log.error("quarantined %s -> %s: %s", name, moved_to, error)
    return replace(
        base, status=QUARANTINED, code=error.code, message=error.message, moved_to=moved_to
    )
