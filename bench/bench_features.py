"""Feature-store benchmark on the real M5 subset: build time, table size, online read latency.

    .venv/bin/python bench/bench_features.py [--m5-dir ../shared/data/m5] [--repeats 3]
        [--backends sqlite redis postgresql] [--reads 300]

For both M5 shapes (``long``: 252 series x 1,913 days; ``short``: 3,049 CA_1 items x 116 days)
it times ``build_features`` (median of ``--repeats``), writes the table through the offline
store (zstd Parquet) and times the point-in-time training-set join and the asset-check
functions. The online state of the short shape (3,049 series) then goes into every online
backend; single-series reads and 1,000-series batch reads (random ids) are timed ``--reads``
times each. Prints a Markdown section and writes it to ``bench/results/features.md``.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from testkit.m5 import load_m5_sales_history

from feature_store.build import build_features, build_training_set, online_state
from feature_store.checks import find_leakage, find_missing
from feature_store.definitions import FEATURE_SET_VERSION
from feature_store.offline import OfflineStore
from feature_store.online import open_online_store
from ml.schema import DS, UNIQUE_ID

RESULTS = Path(__file__).parent / "results" / "features.md"
URLS = {
    "sqlite": "sqlite:///{tmp}/online.db",
    "redis": "redis://127.0.0.1:6379/0",
    "postgresql": "postgresql://127.0.0.1:5432/test",
}
log = logging.getLogger("bench_features")


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_shape(m5_dir: Path, shape: str, repeats: int, tmp: Path) -> tuple[dict, pd.DataFrame]:
    load_s, history = timed(lambda: load_m5_sales_history(m5_dir, shape), 1)
    build_s, table = timed(lambda: build_features(history), repeats)
    write_s, manifest = timed(lambda: OfflineStore(tmp / shape).write(table), 1)
    read_s, _ = timed(lambda: OfflineStore(tmp / shape).read(), 1)
    cutoff = history[DS].max() - pd.Timedelta(days=28)
    train_s, train = timed(lambda: build_training_set(table, cutoff, 28), repeats)
    missing_s, _ = timed(lambda: find_missing(table), 1)
    ids = list(np.random.default_rng(0).choice(history[UNIQUE_ID].unique(), 5, replace=False))
    days = np.sort(history[DS].unique())
    cutoffs = [pd.Timestamp(days[len(days) // 2]), pd.Timestamp(days[-29])]
    leak_s, leaks = timed(lambda: find_leakage(history, table, cutoffs, ids=ids), 1)
    assert leaks.empty, leaks.head()
    stats = {
        "shape": shape,
        "series": history[UNIQUE_ID].nunique(),
        "days": history[DS].nunique(),
        "rows": len(table),
        "columns": table.shape[1],
        "memory_mb": table.memory_usage(deep=True).sum() / 2**20,
        "disk_mb": manifest.bytes / 2**20,
        "load_s": load_s,
        "build_s": build_s,
        "write_s": write_s,
        "read_s": read_s,
        "train_s": train_s,
        "train_rows": len(train),
        "missing_s": missing_s,
        "leak_s": leak_s,
    }
    log.info("%s: %s", shape, stats)
    return stats, online_state(table)


def bench_backend(url: str, state: pd.DataFrame, reads: int) -> dict:
    ids = state[UNIQUE_ID].to_numpy()
    rng = np.random.default_rng(1)
    namespace = f"bench_features_{os.getpid()}"
    with open_online_store(url, namespace) as store:
        try:
            write_s, _ = timed(lambda: store.write(state, replace=True), 1)
            store.read(ids[:1000])  # warm connections and statement caches
            one, batch = [], []
            for _ in range(reads):
                single = str(rng.choice(ids))
                start = time.perf_counter()
                store.read_one(single)
                one.append(time.perf_counter() - start)
                wanted = rng.choice(ids, 1000, replace=False).tolist()
                start = time.perf_counter()
                rows = store.read(wanted)
                batch.append(time.perf_counter() - start)
            assert len(rows) == 1000
        finally:
            store.drop()
    ms = 1000.0
    return {
        "write_s": write_s,
        "one_p50": np.median(one) * ms,
        "one_p95": np.percentile(one, 95) * ms,
        "batch_p50": np.median(batch) * ms,
        "batch_p95": np.percentile(batch, 95) * ms,
    }


def markdown(
    shapes: list[dict], backends: dict[str, dict], state_columns: int, args: argparse.Namespace
) -> str:
    lines = [
        "## Feature store on the real M5 subset",
        "",
        f"Feature set `{FEATURE_SET_VERSION}`; {os.cpu_count()} CPU cores; "
        f"medians of {args.repeats} builds. Reproduce with "
        "`.venv/bin/python bench/bench_features.py`.",
        "",
        "| shape | series x days | rows | columns | build (s) | in memory (MB) | Parquet (MB) "
        "| write / read (s) | training set h=28 (s, rows) | find_missing / find_leakage (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in shapes:
        lines.append(
            f"| {s['shape']} | {s['series']:,} x {s['days']:,} | {s['rows']:,} | {s['columns']} "
            f"| {s['build_s']:.2f} | {s['memory_mb']:.0f} | {s['disk_mb']:.1f} "
            f"| {s['write_s']:.2f} / {s['read_s']:.2f} | {s['train_s']:.2f} ({s['train_rows']:,}) "
            f"| {s['missing_s']:.2f} / {s['leak_s']:.2f} |"
        )
    total = sum(s["build_s"] for s in shapes)
    lines += [
        "",
        f"Feature build for both shapes: **{total:.1f} s** (loading the frames from Parquet, "
        f"not counted: {sum(s['load_s'] for s in shapes):.1f} s). `find_leakage` recomputes "
        "5 sampled series (widened to their store-departments) at 2 cutoffs.",
        "",
        f"Online store: the latest state of the 3,049 CA_1 series ({state_columns} columns a "
        f"row), {args.reads} reads each, random ids, servers on loopback.",
        "",
        "| backend | write 3,049 rows (s) | one series p50 / p95 (ms) "
        "| 1,000 series p50 / p95 (ms) |",
        "|---|---|---|---|",
    ]
    for name, b in backends.items():
        lines.append(
            f"| {name} | {b['write_s']:.3f} | {b['one_p50']:.2f} / {b['one_p95']:.2f} "
            f"| {b['batch_p50']:.1f} / {b['batch_p95']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m5-dir", type=Path, default=Path("../shared/data/m5"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--backends", nargs="+", default=list(URLS), choices=list(URLS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        shapes, state = [], None
        for shape in ("long", "short"):
            stats, state = bench_shape(args.m5_dir, shape, args.repeats, Path(tmp))
            shapes.append(stats)
        backends = {
            name: bench_backend(URLS[name].format(tmp=tmp), state, args.reads)
            for name in args.backends
        }
    text = markdown(shapes, backends, state.shape[1], args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)  # the report is this script's output, not a log line


if __name__ == "__main__":
    main()
