"""Ingestion benchmark: the real M5 subset through the landing zone, and the defect corpus.

    .venv/bin/python bench/bench_ingestion.py [--m5-dir ../shared/data/m5] [--repeats 3]
        [--baseline-ref e7eafc8]

Speed: each repeat copies all M5 files into a fresh landing folder, ingests them (parse, row
checks, lake commit with compaction) and builds ``sales_history``. With ``--baseline-ref`` the
same repeat of that git revision's code (``git archive`` into a temporary folder, run in a
subprocess after an untimed warm-up repeat, as ours is) alternates with ours, so the ratio is
taken on the same machine in the same minutes.

Corpus: every case of ``tests/ml/data/corpus/manifest.json`` in a fresh landing zone, with its
expected and actual outcome and row counts. Prints a Markdown section and writes it to
``bench/results/ingestion.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pandas as pd
from testkit import corpus as runner

from ml.data.history import build_sales_history
from ml.data.ingest import ingest_pending
from ml.data.lake import Lake
from ml.data.landing import LocalFolderSource

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "ingestion.md"
TABLES = ("sales", "prices", "calendar", "products")
# Run in a subprocess on a revision's own code: its one_repeat after a warm-up one, as ours.
BASELINE_SNIPPET = """
import json, sys
from pathlib import Path
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/bench"]
import bench_ingestion
bench_ingestion.one_repeat(Path(sys.argv[2]))  # warm-up: imports, GX context, caches
run = bench_ingestion.one_repeat(Path(sys.argv[2]))
print(json.dumps({k: run[k] for k in ("ingest_s", "history_s", "rows")}))
"""


def one_repeat(m5_dir: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        shutil.copytree(m5_dir, landing, ignore=shutil.ignore_patterns("*.md"))
        source = LocalFolderSource(landing, Path(tmp) / "quarantine")
        lake = Lake(Path(tmp) / "lake")
        start = time.perf_counter()
        report = ingest_pending(source, lake)
        ingested = time.perf_counter()
        history = build_sales_history(*(lake.read_table(t) for t in TABLES))
        built = time.perf_counter()
        assert not report.quarantined, report.quarantined
        return {
            "ingest_s": ingested - start,
            "history_s": built - ingested,
            "files": {f.key: (f.layout, f.rows_landed) for f in report.ingested},
            "series": history["unique_id"].nunique(),
            "rows": len(history),
        }


def baseline_repeat(code: Path, m5_dir: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run(
        [sys.executable, "-c", BASELINE_SNIPPET, str(code), str(m5_dir)],
        capture_output=True,
        text=True,
        check=True,
        cwd=code,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def export_revision(ref: str, folder: Path) -> Path:
    archive = folder / "rev.tar"
    with archive.open("wb") as handle:
        subprocess.run(["git", "archive", ref], cwd=ROOT, stdout=handle, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "code", filter="data")
    return folder / "code"


def speed_section(m5_dir: Path, repeats: int, baseline_ref: str | None) -> list[str]:
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        code = export_revision(baseline_ref, Path(tmp)) if baseline_ref else None
        one_repeat(m5_dir)  # warm-up, untimed (the baseline's subprocess does the same)
        for i in range(repeats):  # alternate who goes first: the machine drifts
            order = ["ours", "base"] if i % 2 == 0 else ["base", "ours"]
            for who in order:
                if who == "ours":
                    ours.append(one_repeat(m5_dir))
                elif code is not None:
                    theirs.append(baseline_repeat(code, m5_dir))
    rows_in = sum(rows for _, rows in ours[0]["files"].values())
    lines = [
        "| file | detected as | rows |",
        "| --- | --- | ---: |",
        *[f"| `{k}` | {kind} | {rows:,} |" for k, (kind, rows) in sorted(ours[0]["files"].items())],
        "",
        "| stage | code | median seconds | rows per second |",
        "| --- | --- | ---: | ---: |",
    ]
    for label, runs in (("this revision", ours), (f"`{baseline_ref}`", theirs)):
        if not runs:
            continue
        ingest = statistics.median(r["ingest_s"] for r in runs)
        history = statistics.median(r["history_s"] for r in runs)
        built = runs[0]["rows"] / history
        lines += [
            f"| ingest all files | {label} | {ingest:.2f} | {rows_in / ingest:,.0f} |",
            f"| build `sales_history` | {label} | {history:.2f} | {built:,.0f} |",
        ]
    if theirs:
        ratio = statistics.median(r["ingest_s"] for r in ours) / statistics.median(
            r["ingest_s"] for r in theirs
        )
        lines += ["", f"Ingest time of this revision / `{baseline_ref}`: {ratio:.2f}."]
    lines += ["", f"`sales_history`: {ours[0]['series']:,} series, {ours[0]['rows']:,} rows."]
    return lines


def as_csv(m5_dir: Path, folder: Path) -> Path:
    """The same M5 files as CSV, the way most retailers send them (ISO dates)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(m5_dir.glob("*.parquet")):
        frame = pd.read_parquet(path)
        frame.to_csv(folder / f"{path.stem}.csv", index=False, date_format="%Y-%m-%d")
    return folder


def corpus_section() -> list[str]:
    results = [runner.run_case(case) for case in runner.load_cases()]
    lines = [
        "| defect | file | expected | outcome | code(s) | rows landed / rejected | as expected |",
        "| --- | --- | --- | --- | --- | ---: | :---: |",
    ]
    for r in results:
        o, c = r.outcome, r.case
        codes = o.code or ", ".join(o.rejected_by_code) or "-"
        lines.append(
            f"| {c['kind']} | `{c['file']}` | {c['expected']} | {o.status} | {codes} "
            f"| {o.rows_landed} / {o.rows_rejected} | {'yes' if r.as_expected else '**NO**'} |"
        )
    matched = sum(r.as_expected for r in results)
    defects = sum(c["expected"] != "ingested" for c in runner.load_cases())
    lines += ["", f"{matched} of {len(results)} cases as expected ({defects} defect kinds)."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m5-dir", type=Path, default=ROOT.parent / "shared" / "data" / "m5")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-ref", default=None, help="git revision to time alongside")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    command = f"`.venv/bin/python bench/bench_ingestion.py --repeats {args.repeats}" + (
        f" --baseline-ref {args.baseline_ref}`" if args.baseline_ref else "`"
    )
    with tempfile.TemporaryDirectory() as tmp:
        csv_dir = as_csv(args.m5_dir, Path(tmp) / "m5_csv")
        csv_lines = speed_section(csv_dir, args.repeats, args.baseline_ref)
    lines = [
        "## Ingestion of the real M5 subset",
        "",
        f"Command: {command} (median of {args.repeats} repeats, alternating with the baseline; "
        f"1-minute load average {load:.1f} at the start).",
        "",
        "### As Parquet (the shared files)",
        "",
        *speed_section(args.m5_dir, args.repeats, args.baseline_ref),
        "",
        "### The same files as CSV",
        "",
        *csv_lines,
        "",
        "## Ingestion defect corpus",
        "",
        "Each file of `tests/ml/data/corpus/` (built by `build_corpus.py`, expectations written by",
        "hand in `manifest.json`) dropped into a fresh landing zone after its context files (an",
        "M5-style calendar unless the case says otherwise). Same command.",
        "",
        *corpus_section(),
    ]
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
