"""Ingest what has landed: each new file once, bad files quarantined, good files committed.

The landing zone is anything with ``list_files``, ``read`` and ``quarantine`` (a local folder or
an S3 prefix; see ``orchestration.resources``). Files are identified by the SHA-256 of their
content, so a file dropped again under any name adds nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from ml.data.lake import Lake, LedgerEntry
from ml.data.parsing import (
    KIND_ORDER,
    TABLE_OF_KIND,
    BadFileError,
    CalendarRequiredError,
    detect_kind,
    normalise,
    read_frame,
)
from ml.data.validation import RuleFailure, validate_frame
from ml.schema import DATE, PRICE, UNITS

log = logging.getLogger(__name__)

# Lake tables with an expectation suite in ml.data.validation.
VALIDATED_TABLES = {"sales", "prices", "calendar", "products"}


class LandingSource(Protocol):
    def list_files(self) -> list[str]: ...

    def read(self, key: str) -> bytes: ...

    def quarantine(self, key: str, reason: dict) -> str: ...


@dataclass(frozen=True)
class IngestedFile:
    key: str
    checksum: str
    kind: str
    table: str
    rows: int


@dataclass(frozen=True)
class QuarantinedFile:
    key: str
    checksum: str
    code: str
    message: str
    moved_to: str


@dataclass
class IngestionReport:
    ingested: list[IngestedFile] = field(default_factory=list)
    quarantined: list[QuarantinedFile] = field(default_factory=list)
    already_ingested: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)

    def tables_changed(self) -> set[str]:
        return {f.table for f in self.ingested}


@dataclass
class _Landed:
    key: str
    checksum: str
    frame: pd.DataFrame | None = None
    kind: str | None = None


def checksum_of(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def new_files(source: LandingSource, lake: Lake) -> dict[str, str]:
    """Key -> checksum of every landed file the ledger has not seen (for the sensor)."""
    seen = lake.ingested_checksums()
    found = {key: checksum_of(source.read(key)) for key in source.list_files()}
    return {key: digest for key, digest in found.items() if digest not in seen}


def ingest_pending(source: LandingSource, lake: Lake) -> IngestionReport:
    """Ingest every new file in the landing zone; calendars and catalogues first."""
    report = IngestionReport()
    landed = _read_new(source, lake, report)
    for item in sorted(landed, key=lambda f: KIND_ORDER.index(f.kind)):
        if lake.has(item.checksum):  # the same content twice in one batch
            report.already_ingested.append(item.key)
            continue
        try:
            _ingest_one(item, lake, report)
        except BadFileError as error:
            _quarantine(source, lake, item, error, report)
        except CalendarRequiredError as error:
            log.warning("deferring %s: %s", item.key, error)
            report.deferred.append(item.key)
    return report


def _read_new(source: LandingSource, lake: Lake, report: IngestionReport) -> list[_Landed]:
    seen = lake.ingested_checksums()
    landed = []
    for key in sorted(source.list_files()):
        payload = source.read(key)
        item = _Landed(key, checksum_of(payload))
        if item.checksum in seen:
            report.already_ingested.append(key)
            continue
        try:
            item.frame = read_frame(key, payload)
            item.kind = detect_kind(list(item.frame.columns))
        except BadFileError as error:
            _quarantine(source, lake, item, error, report)
            continue
        landed.append(item)
    return landed


def _ingest_one(item: _Landed, lake: Lake, report: IngestionReport) -> None:
    table = TABLE_OF_KIND[item.kind]
    frame = normalise(item.kind, item.frame, lake.read_table("calendar"))
    if table in VALIDATED_TABLES:
        summary = validate_frame(frame, table)
        if not summary.success:
            raise BadFileError(
                _code_of(summary.failures[0]),
                "; ".join(f.describe() for f in summary.failures),
                {"failures": [vars(f) for f in summary.failures]},
            )
    lake.commit(LedgerEntry(item.checksum, item.key, item.kind, table, len(frame)), frame)
    report.ingested.append(IngestedFile(item.key, item.checksum, item.kind, table, len(frame)))
    log.info("ingested %s as %s (%d rows)", item.key, item.kind, len(frame))


_CODES_BY_COLUMN = {
    UNITS: "negative_units",
    PRICE: "non_positive_price",
    DATE: "dates_out_of_range",
}
_CODES = {
    "expect_compound_columns_to_be_unique": "duplicate_keys",
    "expect_column_values_to_be_unique": "duplicate_keys",
    "expect_column_values_to_be_between": "out_of_range",
    "expect_column_values_to_not_be_null": "missing_values",
    "expect_column_to_exist": "missing_columns",
}


def _code_of(failure: RuleFailure) -> str:
    """A stable reason code for the first failed rule (what the quarantine note leads with)."""
    if failure.rule == "expect_column_values_to_be_between" and failure.column in _CODES_BY_COLUMN:
        return _CODES_BY_COLUMN[failure.column]
    return _CODES.get(failure.rule, "failed_validation")


def _quarantine(
    source: LandingSource, lake: Lake, item: _Landed, error: BadFileError, report: IngestionReport
) -> None:
    reason = {
        "file": item.key,
        "checksum": item.checksum,
        "code": error.code,
        "message": error.message,
        "details": error.details,
    }
    moved_to = source.quarantine(item.key, reason)
    lake.record_quarantine(item.checksum, item.key, error.code, error.message, error.details)
    report.quarantined.append(
        QuarantinedFile(item.key, item.checksum, error.code, error.message, moved_to)
    )
    log.error("quarantined %s -> %s: %s", item.key, moved_to, error)
