"""Every family on a store that mixes five-year and four-month histories (real M5, CA_1).

A retailer's store rarely has one history length: a few items have sold for years, most were
listed recently. This runs each family as the ``<family>_model`` assets do
(:func:`ml.evaluation.training.train_family`: rolling-origin backtest, then the verdict against
seasonal naive on the same rows) on CA_1 as it comes: the 28 items with all 1,969 days and a
sample of the other 3,021 items with the last 116 days, the last 28 days of all held back.
It prints, per family, the backtest RMSSE next to seasonal naive's, the same split into long
and short series, whether the family would join the ensemble, and its time.

    .venv/bin/python bench/bench_mixed_histories.py [--short-series 300] [--families ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from testkit.m5 import load_m5_sales_history, train_test_split  # noqa: E402

from ml.evaluation.training import BacktestSpec, train_family  # noqa: E402
from ml.schema import DS, UNIQUE_ID  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_M5_DIR = ROOT.parent / "shared" / "data" / "m5"
RESULTS = ROOT / "bench" / "results" / "mixed_histories.md"
FAMILIES = ["arima", "prophet", "xgboost", "lstm"]
SPEC = BacktestSpec(h=28, n_windows=2, step_size=28)


def mixed_store(m5_dir: Path, short_series: int) -> tuple[pd.DataFrame, set[str]]:
    """CA_1's long items and an evenly spread sample of its short ones, holdout removed."""
    history, _ = train_test_split(load_m5_sales_history(m5_dir, "mixed"), 28)
    days = history.groupby(UNIQUE_ID)[DS].nunique()
    long_ids = set(days[days > 365].index)
    short_ids = sorted(days[days <= 365].index)
    step = max(1, len(short_ids) // short_series)
    keep = long_ids | set(short_ids[::step][:short_series])
    return history[history[UNIQUE_ID].isin(keep)].reset_index(drop=True), long_ids


def family_row(family: str, history: pd.DataFrame, long_ids: set[str], workers: int) -> dict:
    started = time.perf_counter()
    result = train_family(family, history, SPEC, n_workers=workers)
    seconds = time.perf_counter() - started
    (versus,) = result.versus_naive.itertuples()
    per_series = result.evaluation.per_series
    rmsse = per_series[per_series["metric"] == "rmsse"].set_index(UNIQUE_ID)[versus.model]
    is_long = rmsse.index.isin(long_ids)
    return {
        "family": family,
        "RMSSE": versus.rmsse,
        "seasonal naive": versus.seasonal_naive_rmsse,
        "long series": rmsse[is_long].mean(),
        "short series": rmsse[~is_long].mean(),
        "joins the ensemble": "no" if result.worse_than_naive else "yes",
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m5-dir", type=Path, default=DEFAULT_M5_DIR)
    parser.add_argument("--short-series", type=int, default=300)
    parser.add_argument("--families", nargs="+", default=FAMILIES, choices=FAMILIES)
    parser.add_argument("--n-workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    history, long_ids = mixed_store(args.m5_dir, args.short_series)
    n_short = history[UNIQUE_ID].nunique() - len(long_ids)
    rows = [family_row(f, history, long_ids, args.n_workers) for f in args.families]
    table = pd.DataFrame(rows).round({"RMSSE": 3, "seasonal naive": 3, "long series": 3,
                                      "short series": 3, "seconds": 0})  # fmt: skip
    command = (
        "python bench/bench_mixed_histories.py"
        + " ".join(
            [
                f" --short-series {args.short_series}" if args.short_series != 300 else "",
                f"--families {' '.join(args.families)}" if args.families != FAMILIES else "",
            ]
        ).rstrip()
    )
    text = "\n".join(
        [
            "## Families on a store mixing long and short histories",
            "",
            f"Command: `.venv/bin/{command}` (1-minute load average {load:.1f} at the start).",
            f"Store CA_1: {len(long_ids)} items with 1,941 days and {n_short} of the 3,021 "
            "items with 88 days (last 28 days held back); backtest of 2 windows x 28 days as",
            "the model assets run it. RMSSE is the mean over series on the backtest rows where "
            "the family and seasonal naive both forecast.",
            "",
            table.to_markdown(index=False),
            "",
        ]
    )
    print(text)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
