"""Ingestion benchmark on the real M5 subset: every file through the landing zone.

    .venv/bin/python bench/bench_ingestion.py [--m5-dir ../shared/data/m5] [--repeats 3]

Each repeat copies all M5 files into a fresh landing folder, ingests them (parse, normalise,
Great Expectations suite, lake commit) and builds ``sales_history``. Prints a Markdown section
and writes it to ``bench/results/ingestion.md``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ml.data.history import build_sales_history
from ml.data.ingest import ingest_pending
from ml.data.lake import Lake
from ml.data.landing import LocalFolderSource

RESULTS = Path(__file__).parent / "results" / "ingestion.md"


def one_repeat(m5_dir: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        shutil.copytree(m5_dir, landing, ignore=shutil.ignore_patterns("*.md"))
        source = LocalFolderSource(landing, Path(tmp) / "quarantine")
        lake = Lake(Path(tmp) / "lake")
        start = time.perf_counter()
        report = ingest_pending(source, lake)
        ingested = time.perf_counter()
        history = build_sales_history(
            *(lake.read_table(t) for t in ("sales", "prices", "calendar", "products"))
        )
        built = time.perf_counter()
        assert not report.quarantined, report.quarantined
        return {
            "ingest_s": ingested - start,
            "history_s": built - ingested,
            "files": {f.key: (f.kind, f.rows) for f in report.ingested},
            "series": history["unique_id"].nunique(),
            "rows": len(history),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m5-dir", type=Path, default=Path("../shared/data/m5"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs = [one_repeat(args.m5_dir) for _ in range(args.repeats)]
    ingest = statistics.median(r["ingest_s"] for r in runs)
    history = statistics.median(r["history_s"] for r in runs)
    rows_in = sum(rows for _, rows in runs[0]["files"].values())
    lines = [
        "## Ingestion of the real M5 subset",
        "",
        f"Command: `.venv/bin/python bench/bench_ingestion.py --repeats {args.repeats}` "
        f"(median of {args.repeats} repeats, 2-core machine).",
        "",
        "| file | detected as | rows |",
        "| --- | --- | ---: |",
        *[f"| `{k}` | {kind} | {rows:,} |" for k, (kind, rows) in sorted(runs[0]["files"].items())],
        "",
        "| stage | median seconds | rows per second |",
        "| --- | ---: | ---: |",
        f"| ingest all files (parse, GX suite, commit) | {ingest:.1f} | {rows_in / ingest:,.0f} |",
        f"| build `sales_history` | {history:.1f} | {runs[0]['rows'] / history:,.0f} |",
        "",
        f"`sales_history`: {runs[0]['series']:,} series, {runs[0]['rows']:,} rows.",
    ]
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
