"""Every forecaster family on the real M5 shapes: wall time, parallel speed-up and accuracy.

For each shape (``long``: 252 item-store series x 1,913 days; ``short``: the 3,049 CA_1 items x
116 days) the last 28 days are held out. On the rest each family runs a 3-window rolling-origin
backtest (h = 28; windows 28 days apart on ``long``, 7 on ``short``, whose 88 training days
leave no room for more), then is refitted on all of it and forecasts the held-out 28 days with
the known future calendar and prices (``X_df``). Reported, all from the same run:

* wall time per family (backtest, holdout), series per second (series x 4 fits / wall time),
  the series that fell back to the moving average;
* the speed-up of 2 workers over 1 on the per-series stages (ARIMA and Prophet fit + forecast);
* accuracy on the held-out days: mean RMSSE (M5 scaling), WAPE, MASE, 80 % / 95 % coverage,
  and the mean RMSSE of the backtest windows; statsforecast's AutoETS and the seasonal naive
  (identical point forecasts to statsforecast's SeasonalNaive) ride along as references;
* the design documents' selection rules, evaluated (``Selected``);
* on ``long``, the cost/accuracy trade-off of the ARIMA settings on a sample of series.

    .venv/bin/python bench/bench_models.py [--shapes long short] [--families ...] [--quick]
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

import numpy as np
import pandas as pd
from testkit.baselines import MLForecastLightGBM, StatsForecastETS
from testkit.m5 import load_m5_sales_history, train_test_split
from testkit.selection import select_family, selected_forecast

from feature_store.build import build_features
from ml.evaluation.backtest import cross_validation
from ml.evaluation.metrics import METRIC, evaluate_forecasts
from ml.models.arima import ARIMA
from ml.models.base import Forecaster
from ml.models.moving_average import MovingAverage
from ml.models.prophet import Prophet
from ml.models.seasonal_naive import SeasonalNaive
from ml.schema import CUTOFF, DS, UNIQUE_ID, Y

logger = logging.getLogger("bench.bench_models")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_M5_DIR = ROOT.parent / "shared" / "data" / "m5"
RESULTS = ROOT / "bench" / "results" / "models.md"
H, N_WINDOWS, LEVELS = 28, 3, [80, 95]
STEP = {"long": 28, "short": 7}
QUICK_SERIES = {"long": 18, "short": 150}
SPEEDUP_SERIES = {"long": 48, "short": 400}
# --speedup-only runs on every long series: 48 leave process start-up a visible share
SPEEDUP_ONLY_SERIES = {"long": 252, "short": 400}
KEYS = [UNIQUE_ID, DS, CUTOFF, Y]
SELECTION_COLUMNS = {"arima": "ARIMA", "prophet": "Prophet", "xgboost": "XGBoost", "lstm": "LSTM"}
ALL_FAMILIES = [
    "seasonal_naive",
    "moving_average",
    "autoets",
    "lightgbm",
    "arima",
    "prophet",
    "xgboost",
    "lstm",
]


def optional_family(module: str, name: str) -> type | None:
    """A family class from another engineer's module, or None when it is not there yet."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def family_factories(n_workers: int) -> dict[str, Callable[[], Forecaster]]:
    factories: dict[str, Callable[[], Forecaster]] = {
        "seasonal_naive": SeasonalNaive,
        "moving_average": MovingAverage,
        "autoets": lambda: StatsForecastETS(n_jobs=n_workers),
        "lightgbm": lambda: MLForecastLightGBM(n_jobs=n_workers),
        "arima": lambda: ARIMA(n_workers=n_workers),
        "prophet": lambda: Prophet(n_workers=n_workers),
    }
    xgboost = optional_family("ml.models.xgboost", "XGBoostForecaster")
    lstm = optional_family("ml.models.lstm", "LSTMForecaster")
    if xgboost is not None:
        factories["xgboost"] = lambda: xgboost(n_jobs=n_workers)
    if lstm is not None:
        factories["lstm"] = lambda: lstm(n_threads=n_workers)
    return factories


@dataclass
class FamilyRun:
    name: str
    alias: str
    backtest_s: float
    holdout_s: float
    cv: pd.DataFrame
    holdout: pd.DataFrame
    failed: dict


def holdout_forecast(
    factory: Callable[[], Forecaster], train: pd.DataFrame, test: pd.DataFrame
) -> tuple[pd.DataFrame, Forecaster]:
    """Fit on everything but the last 28 days, forecast them (future calendar/prices known)."""
    model = factory().fit(train)
    forecast = model.predict(H, X_df=test.drop(columns=[Y]), level=LEVELS)
    frame = test[[UNIQUE_ID, DS, Y]].merge(forecast, on=[UNIQUE_ID, DS], how="left")
    frame.insert(2, CUTOFF, train[DS].max())
    return frame, model


def run_family(name, factory, train, test, shape) -> FamilyRun:
    logger.info("%s: backtest", name)
    start = time.perf_counter()
    factory = reading_features(factory, train)
    cv = cross_validation(factory, train, H, N_WINDOWS, STEP[shape], level=LEVELS)
    backtest_s = time.perf_counter() - start
    logger.info("%s: holdout", name)
    start = time.perf_counter()
    holdout, model = holdout_forecast(factory, train, test)
    holdout_s = time.perf_counter() - start
    failed = dict(getattr(model, "failed_", {}))
    return FamilyRun(name, model.alias, backtest_s, holdout_s, cv, holdout, failed)


def reading_features(factory: Callable[[], Forecaster], train: pd.DataFrame):
    """As the model assets run them: the global models read one feature table of ``train``
    (built here, inside the family's timed backtest), the others get nothing."""
    if not hasattr(factory(), "use_feature_table"):
        return factory
    table = build_features(train)
    return lambda: factory().use_feature_table(table)


def merge_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return reduce(lambda a, b: a.merge(b, on=KEYS, how="outer"), frames)


def measure_speedup(
    train: pd.DataFrame, shape: str, n_series: int, order: tuple[int, ...] = (1, 2)
) -> list[dict]:
    """Fit + forecast time of the per-series families with 1 and 2 workers (same run).

    ``order`` says which worker count runs first; alternating it over repeats keeps a machine
    that slows down or speeds up during the run from favouring one side.
    """
    ids = spread_ids(train, n_series)
    sample = train[train[UNIQUE_ID].isin(ids)]
    rows = []
    for family, make in (("arima", ARIMA), ("prophet", Prophet)):
        seconds = {}
        for workers in order:
            start = time.perf_counter()
            make(n_workers=workers).fit(sample).predict(H, level=LEVELS)
            seconds[workers] = time.perf_counter() - start
        rows.append(
            {"family": family, "series": len(ids), "1 worker s": seconds[1],
             "2 workers s": seconds[2], "speed-up": seconds[1] / seconds[2]}
        )  # fmt: skip
        logger.info("speed-up %s: %.2fx", family, rows[-1]["speed-up"])
    return rows


ARIMA_SETTINGS = {
    "AutoARIMA, full history": dict(search="auto", train_window=None, max_p=5, max_q=5,
                                    max_P=2, max_Q=2, approximation=False),
    "AutoARIMA, last 364 days": dict(search="auto", train_window=364, max_p=5, max_q=5,
                                     max_P=2, max_Q=2, approximation=False),
    "AutoARIMA constrained + approx., 364 days": dict(search="auto", train_window=364),
    "fixed (1,0,1)(0,1,1)7, full history": dict(search="fixed", train_window=None),
    "fixed (1,0,1)(0,1,1)7, 728 days": dict(search="fixed", train_window=728),
    "fixed (1,0,1)(0,1,1)7, 364 days (default)": dict(search="fixed", train_window=364),
}  # fmt: skip


def arima_tradeoff(train, test, n_series: int, n_workers: int, quick: bool) -> pd.DataFrame:
    """Holdout cost and accuracy of the ARIMA settings on the same sample of series."""
    ids = spread_ids(train, n_series)
    sample, actual = train[train[UNIQUE_ID].isin(ids)], test[test[UNIQUE_ID].isin(ids)]
    rows = []
    for label, params in ARIMA_SETTINGS.items():
        if quick and params["train_window"] is None and params["search"] == "auto":
            continue
        logger.info("ARIMA trade-off: %s", label)
        factory = lambda p=params: ARIMA(n_workers=n_workers, **p)  # noqa: E731
        start = time.perf_counter()
        frame, _ = holdout_forecast(factory, sample, actual)
        seconds = time.perf_counter() - start
        overall = evaluate_forecasts(frame, sample, levels=LEVELS).summary().iloc[0]
        rows.append(
            {"setting": label, "s per series (wall)": seconds / len(ids),
             "CPU s per series": seconds * n_workers / len(ids), "RMSSE": overall["rmsse"],
             "WAPE": overall["wape"], "cov 80": overall["coverage_80"]}
        )  # fmt: skip
    return pd.DataFrame(rows)


def spread_ids(frame: pd.DataFrame, n: int) -> list[str]:
    """``n`` series ids spread evenly over the sorted ids (all departments represented)."""
    ids = np.sort(frame[UNIQUE_ID].unique())
    if n >= len(ids):
        return list(ids)
    return list(ids[np.linspace(0, len(ids) - 1, n).round().astype(int)])


def accuracy_table(runs: list[FamilyRun], train: pd.DataFrame) -> pd.DataFrame:
    """Holdout metrics per family (+ the selection rules), with the backtest mean RMSSE."""
    holdout = merge_frames([r.holdout for r in runs])
    selectable = {k: v for k, v in SELECTION_COLUMNS.items() if v in holdout.columns}
    if selectable:
        choice = select_family(train)
        selected = selected_forecast(holdout, choice, selectable, LEVELS)
        holdout = holdout.merge(selected, on=KEYS)
    table = evaluate_forecasts(holdout, train, levels=LEVELS).summary()
    backtest = evaluate_forecasts(merge_frames([r.cv for r in runs]), train, levels=LEVELS)
    rmsse_cv = backtest.overall.set_index(METRIC).loc["rmsse"]
    table["backtest RMSSE"] = rmsse_cv.reindex(table.index)
    columns = ["rmsse", "wape", "mase", "bias", "coverage_80", "coverage_95", "backtest RMSSE"]
    return table[columns].sort_values("rmsse")


def timing_table(runs: list[FamilyRun], n_series: int) -> pd.DataFrame:
    rows = [
        {"family": r.alias, "backtest s": r.backtest_s, "holdout s": r.holdout_s,
         "total s": r.backtest_s + r.holdout_s,
         "series/s": n_series * (N_WINDOWS + 1) / (r.backtest_s + r.holdout_s),
         "fallbacks": len(r.failed)}
        for r in runs
    ]  # fmt: skip
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame, index: bool = False) -> str:
    return frame.to_markdown(index=index, floatfmt=".3f")


def bench_shape(shape: str, args: argparse.Namespace) -> str:
    df = load_m5_sales_history(args.m5_dir, shape)
    if args.quick:
        df = df[df[UNIQUE_ID].isin(spread_ids(df, QUICK_SERIES[shape]))]
    train, test = train_test_split(df, H)
    n_series = train[UNIQUE_ID].nunique()
    factories = family_factories(args.n_workers)
    runs = [
        run_family(name, factories[name], train, test, shape)
        for name in args.families
        if name in factories
    ]
    lines = [
        f"### Shape `{shape}`: {n_series} series x {df[DS].nunique()} days",
        "",
        f"Hold-out: last {H} days. Backtest: {N_WINDOWS} windows, h = {H}, step {STEP[shape]}"
        f" days. Workers: {args.n_workers}.",
        "",
        "**Accuracy on the held-out days** (backtest RMSSE: mean over the 3 windows)",
        "",
        markdown(accuracy_table(runs, train), index=True),
        "",
        "**Wall time** (fits: 3 backtest windows + 1 holdout per series)",
        "",
        markdown(timing_table(runs, n_series)),
        "",
    ]
    lines += fallback_lines(runs) + selection_lines(train)
    if not args.no_speedup:
        speedup = pd.DataFrame(
            measure_speedup(train, shape, SPEEDUP_SERIES[shape] // (4 if args.quick else 1))
        )
        lines += [
            "**Per-series stages, 2 workers vs 1** (fit + forecast)",
            "",
            markdown(speedup),
            "",
        ]
    if shape == "long" and args.arima_tradeoff > 0:
        tradeoff = arima_tradeoff(train, test, args.arima_tradeoff, args.n_workers, args.quick)
        lines += [
            f"**ARIMA: cost vs accuracy** ({args.arima_tradeoff} series, held-out days)",
            "", markdown(tradeoff), "",
        ]  # fmt: skip
    return "\n".join(lines)


def fallback_lines(runs: list[FamilyRun]) -> list[str]:
    failed = [(r.alias, uid, why) for r in runs for uid, why in sorted(r.failed.items())]
    if not failed:
        return ["No series fell back to the moving average (holdout fits).", ""]
    shown = [f"- {alias} `{uid}`: {why}" for alias, uid, why in failed[:10]]
    return [f"Series that fell back to the moving average: {len(failed)}", "", *shown, ""]


def selection_lines(train: pd.DataFrame) -> list[str]:
    counts = select_family(train).value_counts()
    text = ", ".join(f"{family} {count}" for family, count in counts.items())
    return [f"Selection rules chose: {text}.", ""]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m5-dir", type=Path, default=DEFAULT_M5_DIR)
    parser.add_argument("--shapes", nargs="+", default=["long", "short"], choices=list(STEP))
    parser.add_argument("--families", nargs="+", default=ALL_FAMILIES, choices=ALL_FAMILIES)
    parser.add_argument("--quick", action="store_true", help="a sample of series only")
    parser.add_argument("--n-workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-speedup", action="store_true")
    parser.add_argument(
        "--speedup-only",
        action="store_true",
        help="only the 2-vs-1-worker timing (run it on a quiet machine), to models_speedup.md",
    )
    parser.add_argument("--repeats", type=int, default=1, help="speed-up repeats (median)")
    parser.add_argument("--arima-tradeoff", type=int, default=12, help="series (0 skips)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parse_args(argv)
    if args.speedup_only:
        write_speedup(args)
        return
    for shape in args.shapes:  # one file per shape: a long run keeps what it has finished
        start, load_before = time.perf_counter(), os.getloadavg()[0]
        section = bench_shape(shape, args)
        text = "\n".join([*header(args, shape, start, load_before), section])
        if not args.quick:
            output = args.output.with_name(f"{args.output.stem}_{shape}.md")
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text + "\n")
        sys.stdout.write(text + "\n")


def _spin(n: int) -> int:
    """CPU-bound work with nothing to share (the ceiling of a 2-process speed-up)."""
    return sum(i * i % 7 for i in range(n))


def ceiling_speedup(repeats: int) -> pd.DataFrame:
    """1 vs 2 workers of :class:`LocalBackend` on pure CPU work, the machine's own limit."""
    from ml.models.parallel import LocalBackend

    items, runs = [2_000_000] * 16, []
    for order in worker_orders(repeats):
        seconds = {}
        for workers in order:
            start = time.perf_counter()
            LocalBackend(workers).map(_spin, items)
            seconds[workers] = time.perf_counter() - start
        runs.append({"family": "pure CPU", "series": len(items), "1 worker s": seconds[1],
                     "2 workers s": seconds[2], "speed-up": seconds[1] / seconds[2]})  # fmt: skip
    return summarise_repeats(pd.DataFrame(runs)).assign(shape="machine")


def worker_orders(repeats: int) -> list[tuple[int, int]]:
    """Which worker count runs first in each repeat: alternating, so drift favours neither."""
    return list(itertools.islice(itertools.cycle([(1, 2), (2, 1)]), repeats))


def summarise_repeats(runs: pd.DataFrame) -> pd.DataFrame:
    """Median times per family, their ratio, and the lowest/highest ratio of single repeats."""
    grouped = runs.groupby(["family", "series"])
    table = grouped[["1 worker s", "2 workers s"]].median().reset_index()
    table["speed-up"] = table["1 worker s"] / table["2 workers s"]
    spread = grouped["speed-up"].agg(["min", "max"]).reset_index(drop=True)
    table["single repeats"] = [f"{lo:.2f}-{hi:.2f}" for lo, hi in spread.to_numpy()]
    return table


def write_speedup(args: argparse.Namespace) -> None:
    """The per-series speed-up alone: medians over ``--repeats`` runs, both shapes."""
    start, load_before = time.perf_counter(), os.getloadavg()[0]
    tables = []
    for shape in args.shapes:
        train, _ = train_test_split(load_m5_sales_history(args.m5_dir, shape), H)
        runs = [
            pd.DataFrame(measure_speedup(train, shape, SPEEDUP_ONLY_SERIES[shape], order))
            for order in worker_orders(args.repeats)
        ]
        tables.append(summarise_repeats(pd.concat(runs)).assign(shape=shape))
    tables.append(ceiling_speedup(args.repeats))
    text = "\n".join([
        "## Forecasting models: per-series speed-up, 2 workers vs 1",
        "",
        f"`.venv/bin/python bench/bench_models.py --speedup-only --repeats {args.repeats}`"
        f" ({time.perf_counter() - start:.0f} s; 1-minute load average {load_before:.1f} at the"
        f" start, {os.getloadavg()[0]:.1f} at the end). Fit + forecast of the per-series"
        " families on a spread sample of series; both worker counts in the same run, which"
        " one goes first alternating over the repeats; `speed-up` is the ratio of the median"
        " times, `single repeats` the lowest and highest ratio of one repeat (this 2-vCPU"
        " machine is shared, so single runs scatter). This supersedes the speed-up rows in"
        " the shape sections, which ran on a busy machine. The `machine` row is the ceiling:"
        " pure-Python CPU work (no I/O, no pickling) through the same process backend.",
        "",
        markdown(pd.concat(tables)[["shape", "family", "series", "1 worker s", "2 workers s",
                                    "speed-up", "single repeats"]]),
        "",
    ])  # fmt: skip
    output = args.output.with_name(f"{args.output.stem}_speedup.md")
    output.write_text(text + "\n")
    sys.stdout.write(text + "\n")


def header(args: argparse.Namespace, shape: str, start: float, load_before: float) -> list[str]:
    title = "## Forecasting models"
    return [
        f"{title}, shape `{shape}`",
        "",
        f"`.venv/bin/python bench/bench_models.py --shapes {shape}"
        + (" --quick" if args.quick else "")
        + "`"
        f" ({time.perf_counter() - start:.0f} s on {os.cpu_count()} cores; 1-minute load "
        f"average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end -- the "
        "machine is shared, so timings and speed-ups are pessimistic when the load exceeds the "
        "core count). RMSSE is scaled by the one-step naive error from each series' first sale "
        "(M5); WAPE = sum|e| / sum(y); coverage = share of actuals inside the interval.",
        "",
    ]


if __name__ == "__main__":
    main()
