"""Hold-out accuracy and wall time of the global models against seasonal naive on real M5 data.

For each M5 shape (``long``: 252 series x 1,913 days; ``short``: 3,049 CA_1 items x 116 days)
the last 28 days of every series are held out; XGBoost and LSTM are fitted on the rest and
forecast those 28 days with the known future prices and calendar (``X_df``), as the M5
competition allowed. Seasonal naive (``y[t-7]``) is the baseline.

Metrics over the held-out days: mean RMSSE over series (scale: mean squared day-to-day change
from each series' first sale, the M5 convention), WAPE, and the share of actuals inside the
80% / 95% intervals.

    .venv/bin/python bench/eval_global_models.py [--shapes long short] [--families xgboost lstm]

Prints a Markdown table and writes it to ``bench/results/global_models.md``.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ml.data.m5 import load_m5_sales_history
from ml.models.lstm import LSTMForecaster
from ml.models.xgboost import XGBoostForecaster
from ml.schema import DS, UNIQUE_ID, Y, forecast_column

logger = logging.getLogger("bench.eval_global_models")

RESULTS = Path(__file__).parent / "results" / "global_models.md"
DEFAULT_M5_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "m5"
H = 28
LEVELS = [80, 95]
SEASONAL_NAIVE = "SeasonalNaive"
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


def seasonal_naive(train: pd.DataFrame, h: int = H, season: int = 7) -> pd.DataFrame:
    """``y[T+j] = y[T+j-season*ceil(j/season)]``: last week repeated (point forecast only)."""
    last = train.groupby(UNIQUE_ID, sort=True).tail(season)
    week = last[Y].to_numpy().reshape(-1, season)
    steps = np.arange(h)
    ends = train.groupby(UNIQUE_ID, sort=True)[DS].max()
    return pd.DataFrame(
        {
            UNIQUE_ID: np.repeat(ends.index.to_numpy(), h),
            DS: np.repeat(ends.to_numpy(), h) + np.tile(pd.to_timedelta(steps + 1, "D"), len(ends)),
            SEASONAL_NAIVE: week[:, steps % season].ravel(),
        }
    )


def rmsse_scale(train: pd.DataFrame) -> pd.Series:
    """Mean squared one-day change of each series from its first non-zero sale (M5)."""
    started = train[train.groupby(UNIQUE_ID, sort=False)[Y].cumsum() > 0]
    changes = started.groupby(UNIQUE_ID, sort=True)[Y].diff() ** 2
    return changes.groupby(started[UNIQUE_ID], sort=True).mean()


def scores(train: pd.DataFrame, scored: pd.DataFrame, alias: str) -> dict[str, float]:
    """Mean RMSSE, WAPE and interval coverage of ``alias`` on the held-out rows in ``scored``."""
    error = scored[Y] - scored[alias]
    mse = (error**2).groupby(scored[UNIQUE_ID], sort=True).mean()
    rmsse = np.sqrt(mse / rmsse_scale(train).reindex(mse.index))
    out = {
        "rmsse": float(rmsse[np.isfinite(rmsse)].mean()),
        "wape": float(error.abs().sum() / scored[Y].abs().sum()),
    }
    for level in LEVELS:
        lo, hi = forecast_column(alias, "lo", level), forecast_column(alias, "hi", level)
        inside = (scored[Y] >= scored[lo]) & (scored[Y] <= scored[hi]) if lo in scored else None
        out[f"coverage_{level}"] = float(inside.mean()) if inside is not None else float("nan")
    return out


def families(args: argparse.Namespace) -> dict[str, Callable[[], object]]:
    """Model factories by name, with the bench's thread settings."""
    return {
        "xgboost": lambda: XGBoostForecaster(n_jobs=args.n_jobs),
        "lstm": lambda: LSTMForecaster(n_threads=args.lstm_threads),
    }


def evaluate_shape(shape: str, args: argparse.Namespace) -> list[dict]:
    """Fit, forecast and score every requested family (and seasonal naive) on one shape."""
    train, test = holdout_split(load_m5_sales_history(args.m5_dir, shape))
    future = test.drop(columns=[Y])
    started = time.perf_counter()
    baseline = seasonal_naive(train)
    rows = [_row(shape, SEASONAL_NAIVE, train, test, baseline, time.perf_counter() - started, 0)]
    factories = families(args)
    for name in args.families:
        model = factories[name]()
        started = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - started
        forecast = model.predict(H, X_df=future, level=LEVELS)
        total = time.perf_counter() - started
        rows.append(_row(shape, model.alias, train, test, forecast, total, fit_s))
        logger.info("%s %s: %s", shape, model.alias, rows[-1])
    return rows


def _row(shape, alias, train, test, forecast, wall_s: float, fit_s: float) -> dict:
    scored = test.merge(forecast, on=[UNIQUE_ID, DS], how="left", validate="one_to_one")
    return {
        "shape": shape,
        "model": alias,
        "series": train[UNIQUE_ID].nunique(),
        **scores(train, scored, alias),
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
    parser.add_argument("--families", nargs="+", default=["xgboost", "lstm"])
    parser.add_argument("--n-jobs", type=int, default=2, help="XGBoost threads")
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
