"""Monitoring replay on the real M5 data: drift, accuracy and retraining, with and without a shift.

    .venv/bin/python bench/bench_monitoring.py [--m5-dir ../shared/data/m5] [--days 10]

Trains the full graph (every family, ensemble, gate) once on a subset of the long M5 shape up to
a date, then replays the following days one POS file per day through the landing zone, twice,
from copies of that trained state: as they happened, and with an injected shift (one
department's prices +30 % and its demand halved from the first replayed day). The sensors run
in-process (``testkit.sensor_loop.SensorLoop``), so each day goes landing file -> ingestion ->
features -> re-anchored forecasts -> accuracy -> drift -> retraining triggers with no manual
step. In the unshifted replay the training runs a trigger asks for are recorded, not executed
(only the false alarms are counted); in the shifted replay they run, and must register a new
challenger. Writes ``bench/results/monitoring.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pandas as pd
from testkit.m5_replay import ReplayData, inject_shift, load_m5_pos, write_day, write_initial
from testkit.sensor_loop import SensorLoop

from ml.monitoring.drift import historical_kl, monitored_columns
from ml.monitoring.triggers import TRIGGER_TAG, read_accuracy
from ml.registry.versions import CHALLENGER, CHAMPION, alias_version, features_from_tags
from orchestration.definitions import build_definitions
from orchestration.resources import BacktestResource, build_resources
from orchestration.settings import Settings

RESULTS = Path(__file__).parent / "results" / "monitoring.md"
STORES = ["CA_1", "TX_2"]
ITEMS = [
    "FOODS_1_033",
    "FOODS_1_218",
    "FOODS_2_096",
    "FOODS_2_360",
    "FOODS_3_080",
    "FOODS_3_377",
    "FOODS_3_586",
    "FOODS_3_702",
    "HOBBIES_1_115",
    "HOBBIES_1_254",
    "HOBBIES_2_025",
    "HOBBIES_2_113",
    "HOUSEHOLD_1_179",
    "HOUSEHOLD_1_474",
    "HOUSEHOLD_2_062",
    "HOUSEHOLD_2_239",
]
MODELS = json.dumps(
    {"lstm": {"epochs": 1, "samples_per_epoch": 3000}, "xgboost": {"n_estimators": 100}}
)


def settings_for(data_dir: Path, accuracy_threshold: float, kl_threshold: float = 0.1) -> Settings:
    return Settings(
        data_dir=data_dir, accuracy_threshold=accuracy_threshold, drift_kl_threshold=kl_threshold
    )


def train_base(data: ReplayData, root: Path, train_end: str, backtest: BacktestResource) -> dict:
    """The first model, trained by the real training job on the history up to ``train_end``."""
    settings = settings_for(root / "data", 85.0)
    write_initial(data, settings.landing_path, train_end)
    defs = build_definitions(settings)
    start = time.perf_counter()
    result = defs.resolve_job_def("training_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        resources={"backtest": backtest},
        tags={TRIGGER_TAG: "manual"},
        raise_on_error=False,
    )
    assert result.success, "the first training run failed"
    client = defs.resources["registry"].client()
    champion = alias_version(client, "demand_forecaster", CHAMPION)
    monitoring = defs.resources["monitoring"]
    watched = monitored_columns(features_from_tags(champion.tags))  # what the asset watches
    spec = replace(monitoring.drift_spec(), columns=watched)
    features = defs.resources["feature_store"].offline().read(columns=list(spec.columns))
    past = historical_kl(features, spec, pd.Timestamp(train_end), weeks=8)
    return {
        "seconds": time.perf_counter() - start,
        "version": str(champion.version),
        "wape": float(champion.tags.get("metric.wape", "nan")),
        "rmsse": float(champion.tags.get("metric.rmsse", "nan")),
        "past_kl": past,
    }


def replay(
    data: ReplayData,
    base: Path,
    root: Path,
    days: pd.DatetimeIndex,
    thresholds: tuple[float, float],
    backtest: BacktestResource,
    execute_training: bool,
) -> dict:
    """Replay ``days`` from a copy of the trained state; one row of evidence per day."""
    shutil.copytree(base, root)
    settings = settings_for(root / "data", *thresholds)
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    loop = SensorLoop(
        defs,
        instance,
        build_resources(settings),
        {"backtest": backtest},
        record_only=() if execute_training else ("training_job",),
    )
    rows, start = [], time.perf_counter()
    for day in days:
        write_day(data, day, settings.landing_path)
        launched = loop.run_until_quiet()
        rows.append(day_row(day, launched, instance, settings))
    client = defs.resources["registry"].client()
    challenger = alias_version(client, "demand_forecaster", CHALLENGER)
    trainings = [r for r in loop.launched if r.job == "training_job"]
    return {
        "rows": pd.DataFrame(rows),
        "seconds": time.perf_counter() - start,
        "trainings": trainings,
        "challenger": str(challenger.version),
        "failed_runs": [f"{r.job}:{r.run_id[:8]}" for r in loop.launched if not r.success],
        "accuracy": read_accuracy(settings.forecasts_url, scope=None),
    }


def day_row(day, launched, instance, settings) -> dict:
    record = instance.fetch_materializations(dg.AssetKey("feature_drift_report"), limit=1)
    drift = {k: v.value for k, v in record.records[0].asset_materialization.metadata.items()}
    accuracy = read_accuracy(settings.forecasts_url)
    today = accuracy[accuracy["day"] == day]
    triggers = [f"{r.tags[TRIGGER_TAG]} ({r.run_key})" for r in launched if r.job == "training_job"]
    return {
        "day": str(day.date()),
        "accuracy": float(today["accuracy"].iloc[0]) if len(today) else float("nan"),
        "kl_significant": drift["kl_significant"],
        "kl_significant_column": drift["kl_significant_column"],
        "kl_max": drift["kl_max"],
        "kl_max_column": drift["kl_max_column"],
        "drifted_share": drift["drifted_share"],
        "triggers": "; ".join(triggers) or "-",
    }


def dept_accuracy(accuracy: pd.DataFrame, dept: str) -> pd.Series:
    rows = accuracy[accuracy["scope"] == f"dept:{dept}"]
    return rows.set_index(rows["day"].dt.date.astype(str))["accuracy"]


def table(result: dict, dept: str) -> list[str]:
    rows = result["rows"].copy()
    rows["dept_accuracy"] = rows["day"].map(dept_accuracy(result["accuracy"], dept))
    lines = [
        f"| day | accuracy | {dept} accuracy | KL, significant columns (column) "
        "| KL max, any column (column) | drifted share | retraining fired |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows.itertuples(index=False):
        lines.append(
            f"| {r.day} | {r.accuracy:.1f} | {r.dept_accuracy:.1f} | "
            f"{r.kl_significant:.3f} ({r.kl_significant_column}) | "
            f"{r.kl_max:.3f} ({r.kl_max_column}) | "
            f"{r.drifted_share:.2f} | {r.triggers} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m5-dir", type=Path, default=Path("../shared/data/m5"))
    parser.add_argument("--history-start", default="2015-03-01")
    parser.add_argument("--train-end", default="2016-03-20")
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--stores", default=",".join(STORES))
    parser.add_argument("--dept", default="FOODS_3")
    parser.add_argument(
        "--accuracy-margin",
        type=float,
        default=10.0,
        help="accuracy threshold = backtest accuracy (100 - WAPE) minus this",
    )
    parser.add_argument(
        "--kl-margin",
        type=float,
        default=1.25,
        help="KL threshold = this x the largest significant KL of 8 past weeks",
    )
    args = parser.parse_args()
    days = pd.date_range(pd.Timestamp(args.train_end) + pd.Timedelta(days=1), periods=args.days)
    data = load_m5_pos(
        args.m5_dir, args.stores.split(","), ITEMS, args.history_start, str(days[-1].date())
    )
    shifted = inject_shift(data, args.dept, str(days[0].date()))
    backtest = BacktestResource(h=14, n_windows=2, step_size=14, family_params=MODELS)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        trained = train_base(data, base, args.train_end, backtest)
        threshold = round(100 - 100 * trained["wape"] - args.accuracy_margin, 1)
        if threshold != threshold:  # no WAPE tag on the version: the design's default
            threshold = 85.0
        kl = max(0.1, round(float(trained["past_kl"]["kl_significant"].max()) * args.kl_margin, 2))
        thresholds = (threshold, kl)
        plain = replay(data, base, Path(tmp) / "plain", days, thresholds, backtest, False)
        shift = replay(shifted, base, Path(tmp) / "shift", days, thresholds, backtest, True)
    text = report(args, data, trained, thresholds, plain, shift, load_before)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


def report(args, data, trained, thresholds, plain, shift, load_before) -> str:
    n, (threshold, kl) = args.days, thresholds
    past = trained["past_kl"]
    at_design = int((plain["rows"]["kl_significant"] > 0.1).sum())
    plain_kinds = [r.tags[TRIGGER_TAG] for r in plain["trainings"]]
    shift_kinds = [r.tags[TRIGGER_TAG] for r in shift["trainings"]]
    first_drift = next(
        (
            r["day"]
            for r in shift["rows"].to_dict("records")
            if r["kl_significant"] > kl or r["drifted_share"] > 0.5
        ),
        "never",
    )
    fired = [r["day"] for r in shift["rows"].to_dict("records") if r["triggers"] != "-"]
    first_window = [
        d
        for d in fired
        if fired and pd.Timestamp(d) - pd.Timestamp(fired[0]) < pd.Timedelta(days=7)
    ]
    load_after = os.getloadavg()
    lines = [
        "## Monitoring: drift, accuracy and retraining on replayed M5 days",
        "",
        f"Command: `.venv/bin/python bench/bench_monitoring.py --days {n} --stores "
        f"{args.stores} --history-start {args.history_start} --train-end {args.train_end}` "
        f"(load average {load_before[0]:.1f} before, {load_after[0]:.1f} after, on a machine "
        "shared with another benchmark; correctness, not timing, is the point here).",
        "",
        f"Data: the long M5 shape, stores {args.stores} x {len(ITEMS)} items = "
        f"{data.series} series (every department), {args.history_start} .. {args.train_end} "
        f"for the first training (the real `training_job`: five families, ensemble, gate; "
        f"h = 14, 2 backtest windows; {trained['seconds']:.0f} s), then {n} days replayed one "
        "POS file per day through the landing zone and the sensors, from copies of that state. "
        f"Shift: {args.dept} prices x 1.3 and units thinned to half from the first replayed day.",
        "",
        "Calibration on the training history (`ml.monitoring.drift.historical_kl`: each of the "
        "8 weeks before the training end against the 28 days before it; significant KL = the "
        "largest KL among columns whose Evidently drift test is significant):",
        "",
        "| week ending | KL, significant columns (column) | KL max, any column | drifted share |",
        "| --- | ---: | ---: | ---: |",
        *[
            f"| {r.current_end.date()} | {r.kl_significant:.3f} ({r.column}) | {r.kl_max:.3f} | "
            f"{r.drifted_share:.2f} |"
            for r in past.itertuples(index=False)
        ],
        "",
        f"Ordinary weeks of real data pass the design's KL 0.1 (prices move, a week of rows is "
        f"few), so the bench sets the KL threshold to {args.kl_margin} x the largest of those: "
        f"**{kl:.2f}** (`RETAILIQ_DRIFT_KL_THRESHOLD`).",
        "",
        f"Thresholds: drift = KL > {kl:.2f} on a column whose Evidently drift test is "
        f"significant, or "
        f"drifted share > 0.5 (reference: 28 days ending at the training window's end; current: "
        f"the latest 7 days); accuracy = {threshold:.1f} % for 3 days in a row. The design's 85 % "
        f"is not reachable at item-store-day level on intermittent M5 data (the champion's "
        f"backtest WAPE is {100 * trained['wape']:.1f} %, i.e. accuracy "
        f"{100 - 100 * trained['wape']:.1f} %), so the bench sets the threshold "
        f"{args.accuracy_margin:.0f} points below the backtest accuracy "
        "(`RETAILIQ_ACCURACY_THRESHOLD`); cooldown 7 data days.",
        "",
        "### As it happened (no shift)",
        "",
        *table(plain, args.dept),
        "",
        f"False alarms: drift triggers {plain_kinds.count('drift')} / {n} days = "
        f"{plain_kinds.count('drift') / n:.2f} per day (at the design's KL 0.1, {at_design} / "
        f"{n} days would have shown significant drift); accuracy triggers "
        f"{plain_kinds.count('accuracy')} / {n} days (recorded, not executed). "
        f"Failed runs: {plain['failed_runs'] or 'none'}.",
        "",
        f"### With the injected shift ({args.dept})",
        "",
        *table(shift, args.dept),
        "",
        f"Drift first significant on {first_drift}; retraining runs launched: "
        f"{len(shift_kinds)} ({', '.join(shift_kinds) or 'none'}); challenger after the "
        f"replay: version {shift['challenger']} (champion trained before the replay: version "
        f"{trained['version']}). Failed runs: {shift['failed_runs'] or 'none'}. Replay wall "
        f"time {shift['seconds']:.0f} s for {n} days including the retraining.",
        "",
        f"Within the 7-day cooldown that starts at the first trigger ({fired[0] if fired else '-'}"
        f"), retraining fired {len(first_window)} time(s): the accuracy drop and the drift are "
        "one episode, and the signal that comes later is consumed by the cooldown instead of "
        "retraining again. A trigger after the cooldown is a new decision: the drift report "
        "then compares with the retrained model's training window, which holds only the first "
        "shifted days, so a shift that persists retrains once more with more of the new regime "
        "in its training data.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
