"""``retailiq``: the command behind ``make run``.

``retailiq run`` seeds the landing zone with the synthetic retailer when it is empty, runs the
main job on the persistent Dagster instance (so the run shows in the UI), and prints a
short summary with where to look next.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
from collections import Counter
from pathlib import Path

import click
import dagster as dg

from orchestration.settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("retailiq")
MAIN_JOB = "data_job"


def ensure_dagster_home() -> Path:
    """Use ``$DAGSTER_HOME`` or ``./.dagster_home``, with the project's ``dagster.yaml`` in it."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists() and (REPO_ROOT / "dagster.yaml").exists():
        shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def seed_landing_zone(settings: Settings, seed: int = 42) -> bool:
    """Write the synthetic retailer's files when the landing zone and the lake are both empty."""
    from ml.data.lake import Lake
    from ml.synthetic import SyntheticConfig, generate, write_landing_files

    landing = settings.landing_path
    has_files = landing.exists() and any(p.is_file() for p in landing.rglob("*"))
    if settings.landing_s3_bucket or has_files or not Lake(settings.lake_path).ledger().empty:
        return False
    write_landing_files(generate(SyntheticConfig(seed=seed)), landing)
    return True


def run_job(job_name: str, tags: dict[str, str] | None = None) -> dg.ExecutionResult:
    """Run a job of the code location on the persistent instance with its own executor (the
    training job fans the families out over processes), so the run shows in the UI."""
    job = dg.build_reconstructable_job(
        "orchestration.definitions", "resolve_job", reconstructable_args=(job_name,)
    )
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with dg.DagsterInstance.get() as instance:
        return dg.execute_job(
            job, instance=instance, run_config=quiet, tags=tags, raise_on_error=False
        )


def summarise(result: dg.ExecutionResult, settings: Settings) -> list[str]:
    lines = [f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'}"]
    built = set()
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        md = {k: v.value for k, v in mat.metadata.items()}
        name = mat.asset_key.to_user_string()
        built.add(name)
        if name == "raw_sales" and md.get("outcomes_this_run"):
            outcomes = ", ".join(f"{n} {s}" for s, n in sorted(md["outcomes_this_run"].items()))
            lines.append(f"landed files: {outcomes}")
        elif name == "sales_history":
            lines.append(
                f"sales_history: {md['series']:,} series, {md['first_day']} .. {md['last_day']}"
                f", {md['dagster/row_count']:,} rows ({md['filled_days']:,} filled days)"
            )
        elif name == "features":
            lines.append(
                f"features: {md['features']} features x {md['dagster/row_count']:,} rows, "
                f"feature set {md['feature_set_version']}"
            )
        elif name.endswith("_model") and "models" in md:
            scores = ", ".join(f"{m} RMSSE {md[f'{m}_rmsse']:.3f}" for m in md["models"])
            lines.append(f"{name}: {scores} ({md['train_seconds']:.0f}s)")
        elif name == "ensemble_evaluation":
            lines.append(
                f"ensemble ({md['scheme']}): RMSSE {md['ensemble_rmsse']:.3f} on the "
                f"last backtest window; champion before this run: "
                f"{md['champion_version']}"
            )
        elif name == "demand_forecaster":
            lines.append(f"registered {md['model_name']} version {md['version']} (challenger)")
        elif name == "demand_forecasts":
            lines.append(
                f"demand_forecasts: {md['series']:,} series, {md['first_day']} .. "
                f"{md['last_day']} from champion version {md['model_version']}"
            )
    if "raw_sales" in built and "sales_history" not in built and result.success:
        lines.append("sales_history: not built yet (no sales have landed; see the run log)")
    outcomes = Counter()
    for check in result.get_asset_check_evaluations():
        state = (
            "passed"
            if check.passed
            else ("warned" if check.severity == dg.AssetCheckSeverity.WARN else "failed")
        )
        outcomes[state] += 1
        if not check.passed:
            lines.append(f"  check {check.check_name}: {state}")
    lines.append("checks: " + ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items())))
    lines += [
        f"lake: {settings.lake_path}   quarantine: {settings.quarantine_path}",
        "look at it: `make ui`, then open http://127.0.0.1:3000 (Dagster) and "
        "http://127.0.0.1:5000 (MLflow)",
    ]
    return lines


def _run(args: argparse.Namespace) -> int:
    ensure_dagster_home()
    settings = get_settings()
    if seed_landing_zone(settings, seed=args.seed):
        click.echo(f"seeded {settings.landing_path} with the synthetic retailer (seed {args.seed})")
    tags = None
    if args.reason:  # a retraining by hand: tagged like the automatic triggers' runs
        from ml.monitoring.triggers import manual_trigger

        tags = manual_trigger(args.reason).tags()
    result = run_job(args.job, tags)
    for line in summarise(result, settings):
        click.echo(line)
    return 0 if result.success else 1


def _drift_history(args: argparse.Namespace) -> int:
    """The significant KL of past ordinary weeks, to set RETAILIQ_DRIFT_KL_THRESHOLD above it."""
    from dataclasses import replace

    import pandas as pd

    from ml.monitoring.drift import historical_kl, monitored_columns
    from ml.registry.versions import CHAMPION, alias_version, features_from_tags
    from ml.schema import DS, Y
    from orchestration.resources import build_resources

    resources = build_resources(get_settings())
    offline = resources["feature_store"].offline()
    registry = resources["registry"]
    champion = alias_version(registry.client(), registry.model_name, CHAMPION)
    watched = features_from_tags(champion.tags) if champion is not None else None
    spec = replace(resources["monitoring"].drift_spec(), columns=monitored_columns(watched))
    if champion is not None and champion.tags.get("training_window_end"):
        last_day = pd.Timestamp(champion.tags["training_window_end"])
    else:
        table = offline.read(columns=[Y])
        last_day = pd.Timestamp(table.loc[table[Y].notna(), DS].max())
    table = offline.read(columns=list(spec.columns))
    history = historical_kl(table, spec, last_day, weeks=args.weeks)
    click.echo(history.round(4).to_markdown(index=False))
    click.echo(
        f"largest significant KL: {history['kl_significant'].max():.4f} "
        f"(threshold now {spec.kl_threshold}: RETAILIQ_DRIFT_KL_THRESHOLD)"
    )
    return 0


def _generate(args: argparse.Namespace) -> int:
    from ml.synthetic import SyntheticConfig, generate, write_landing_files

    config = SyntheticConfig(seed=args.seed, n_days=args.days, n_items=args.items)
    files = write_landing_files(generate(config), Path(args.folder), daily_sales_files=args.daily)
    click.echo(f"wrote {len(files)} files to {args.folder}")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="retailiq", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="seed (if empty), ingest, validate, summarise")
    run.add_argument("--seed", type=int, default=42)
    run.add_argument("--job", default=MAIN_JOB, help=f"job to run (default {MAIN_JOB})")
    run.add_argument(
        "--reason",
        help="why (e.g. 'new store opened'): tags the run retailiq/trigger=manual with it",
    )
    run.set_defaults(func=_run)
    drift = commands.add_parser(
        "drift-history", help="KL of past ordinary weeks, to choose the drift threshold"
    )
    drift.add_argument("--weeks", type=int, default=8)
    drift.set_defaults(func=_drift_history)
    gen = commands.add_parser("generate", help="write synthetic landing files to a folder")
    gen.add_argument("folder")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--days", type=int, default=730)
    gen.add_argument("--items", type=int, default=120)
    gen.add_argument("--daily", action="store_true", help="one sales file per day")
    gen.set_defaults(func=_generate)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
