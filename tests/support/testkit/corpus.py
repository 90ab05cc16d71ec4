"""Runs the ingestion defect corpus (``manifest.json``): each case in a fresh landing zone.

Shared by ``tests/ml/data/test_corpus.py`` (which asserts every case) and
``bench/bench_ingestion.py`` (which prints the table into BENCHMARKS.md).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ml.data.ingest import FileOutcome, ingest_pending
from ml.data.lake import Lake
from ml.data.landing import LocalFolderSource

HERE = Path(__file__).resolve().parents[2] / "ml" / "data" / "corpus"
FILES = HERE / "files"


@dataclass(frozen=True)
class CaseResult:
    case: dict
    outcome: FileOutcome
    lake_rows: int  # rows of the case's table after the case, less those of its context

    @property
    def as_expected(self) -> bool:
        o, c = self.outcome, self.case
        counts = (o.rows_landed, o.rows_rejected) == (c["rows_landed"], c["rows_rejected"])
        code = c["code"] is None or o.code == c["code"]
        return o.status == c["expected"] and counts and code and self.lake_rows == o.rows_landed


def load_cases() -> list[dict]:
    return json.loads((HERE / "manifest.json").read_text())


def run_case(case: dict) -> CaseResult:
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        landing.mkdir()
        source = LocalFolderSource(landing, Path(tmp) / "quarantine")
        lake = Lake(Path(tmp) / "lake")
        for name in case["context"]:
            shutil.copy(FILES / name, landing / name)
        ingest_pending(source, lake)
        before = _rows(lake)
        shutil.copy(FILES / case["file"], landing / case["file"])
        report = ingest_pending(source, lake)
        [outcome] = [o for o in report.outcomes if o.key == case["file"]]
        return CaseResult(case, outcome, _rows(lake) - before)


def _rows(lake: Lake) -> int:
    ledger = lake.ledger()
    return int(ledger["rows"].sum()) if len(ledger) else 0
