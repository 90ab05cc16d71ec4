"""Hold-out accuracy and wall time of the global models against seasonal naive on real M5 data.

For each M5 shape (``long``: 252 series x 1,913 days; ``short``: 3,049 CA_1 items x 116 days)
the last 28 days of every series are held out; XGBoost and LSTM are fitted on the rest and
forecast those 28 days with the known future prices and calendar (``X_df``), as the M5
competition allowed. Seasonal naive (``y[t-7]``, ``ml.models.seasonal_naive``) is the baseline.

Metrics over the held-out days come from ``ml.metrics.evaluate_forecasts``: mean RMSSE over
series (scale: mean squared day-to-day change from each series' first sale, the M5
convention), pooled WAPE, and the share of actuals inside the 80% / 95% intervals.

    .venv/bin/python bench/eval_global_models.py [--shapes long short] [--families xgboost lstm]

Prints a Markdown table and writes it to ``bench/results/global_models.md``.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ml.data.m5 import load_m5_sales_history
from ml.metrics import evaluate_forecasts
from ml.models.base import Forecaster
from ml.models.lstm import LSTMForecaster
from ml.models.seasonal_naive import SeasonalNaive
from ml.models.xgboost import XGBoostForecaster
from ml.schema import CUTOFF, DS, UNIQUE_ID, Y

logger = logging.getLogger("bench.eval_global_models")

RESULTS = Path(__file__).parent / "results" / "global_models.md"
DEFAULT_M5_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "m5"
H = 28
LEVELS = [80, 95]
METRICS = ["rmsse", "wape", "coverage_80", "coverage_95"]
RESULTS_HEADER = (
    "## Global models on M5, last 28 days held out\n\n"
    "`.venv/bin/python bench/eval_global_models.py` -- RMSSE is the mean over series; "
    "`fit_s` is the fit alone, `wall_s` fit + predict.\n"
)


def holdout_split(df: pd.DataFrame, h: int = H) -> tuple[pd.DataFrame, pd.DataFrame]:
    """History without the last ``h`` days of every series, and those days."""
    df = df.sort_values([UNIQUE_ID, DS], kind="stable").reset_index(drop=True)
    held_out = df.groupby(UNIQUE_ID, sort=False).cumcount(ascending=False) < h
    return df[~held_out].reset_index(drop=True), df[held_out].reset_index(drop=True)


def families(args: argparse.Namespace) -> dict[str, Callable[[], Forecaster]]:
    """Model factories by name, with the bench's thread settings."""
    return {
        "xgboost": lambda: XGBoostForecaster(n_jobs=args.n_jobs),
        "lstm": lambda: LSTMForecaster(n_threads=args.lstm_threads),
    }


def evaluate_shape(shape: str, args: argparse.Namespace) -> list[dict]:
    """Fit, forecast and score seasonal naive and every requested family on one shape."""
    train, test = holdout_split(load_m5_sales_history(args.m5_dir, shape))
    future = test.drop(columns=[Y])
    cutoffs = train.groupby(UNIQUE_ID, sort=True)[DS].max()
    scored = test[[UNIQUE_ID, DS, Y]].assign(**{CUTOFF: test[UNIQUE_ID].map(cutoffs)})
    factories = families(args)
    models = [SeasonalNaive(), *(factories[name]() for name in args.families)]
    timings = {}
    for model in models:
        started = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - started
        forecast = model.predict(H, X_df=future, level=LEVELS)
        timings[model.alias] = (fit_s, time.perf_counter() - started)
        scored = scored.merge(forecast, on=[UNIQUE_ID, DS], how="left", validate="one_to_one")
        logger.info("%s %s: fit %.1fs", shape, model.alias, fit_s)
    summary = evaluate_forecasts(scored, train, list(timings), LEVELS).summary()
    return [_row(shape, alias, summary.loc[alias], train, *timings[alias]) for alias in timings]


def _row(shape: str, alias: str, metrics: pd.Series, train, fit_s: float, wall_s: float) -> dict:
    return {
        "shape": shape,
        "model": alias,
        "series": train[UNIQUE_ID].nunique(),
        **{name: float(metrics[name]) for name in METRICS},
        "fit_s": fit_s,
        "wall_s": wall_s,
    }


def markdown(rows: list[dict]) -> str:
    """The results as a Markdown table."""
    table = pd.DataFrame(rows)
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    lines = [
        "| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |"
        for row in table.itertuples(index=False)
    ]
    return "\n".join([header, rule, *lines])


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m5-dir", type=Path, default=DEFAULT_M5_DIR)
    parser.add_argument("--shapes", nargs="+", default=["long", "short"])
    parser.add_argument("--families", nargs="*", default=["xgboost", "lstm"])
    # one thread each: on a shared 2-core machine a 2-thread OpenMP team waits on its barrier
    # far longer than it computes (XGBoost fit on the short shape: 62 s with 1, 337 s with 2)
    parser.add_argument("--n-jobs", type=int, default=1, help="XGBoost threads")
    parser.add_argument("--lstm-threads", type=int, default=1, help="torch threads")
    parser.add_argument("--no-write", dest="write", action="store_false", help=f"skip {RESULTS}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    rows = [row for shape in args.shapes for row in evaluate_shape(shape, args)]
    table = markdown(rows)
    print(table)  # the table is this script's output
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(f"{RESULTS_HEADER}\n{table}\n")
    return table


if __name__ == "__main__":
    main()
