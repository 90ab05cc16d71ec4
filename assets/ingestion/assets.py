"""Ingestion: landed files -> lake tables -> the validated long ``sales_history``."""

from collections import Counter

import dagster as dg
import pandas as pd

from ml.data.history import build_sales_history
from ml.data.ingest import DEFERRED, SKIPPED, IngestionReport, ingest_pending
from ml.monitoring.alerts import FILES_REJECTED
from ml.schema import DS, IS_FILLED, UNIQUE_ID, UNITS, Y
from orchestration.resources import AlertsResource, LakeResource, LandingZoneResource

LAKE_TABLES = {
    "raw_sales": ("sales", "POS unit sales per store, item and day, as landed."),
    "raw_prices": ("prices", "Price list entries per store and item, as landed."),
    "raw_calendar": ("calendar", "Calendar days with retail events and SNAP flags."),
    "raw_products": ("products", "Product catalogue: department, category, unit cost."),
    "raw_sales_monthly": ("sales_monthly", "Monthly unit totals per store and item."),
}
GROUP = "ingestion"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(name, description=description, group_name=GROUP, skippable=True)
        for name, (_, description) in LAKE_TABLES.items()
    ],
    can_subset=False,
)
def lake_tables(
    context: dg.AssetExecutionContext,
    landing: LandingZoneResource,
    lake: LakeResource,
    alerts: AlertsResource,
):
    """Ingest every new landed file once; good rows land, bad rows and files are quarantined."""
    store = lake.lake()
    report = ingest_pending(landing.source(), store, landing.limits())
    _log_report(context, report, landing.describe())
    _alert_rejections(report, alerts, landing.describe())
    ledger = store.ledger()
    for asset_name, (table, _) in LAKE_TABLES.items():
        metadata = _table_metadata(report, ledger, table)
        metadata["dagster/row_count"] = store.table_rows(table)
        yield dg.MaterializeResult(asset_key=asset_name, metadata=metadata)


def _log_report(context, report: IngestionReport, where: str) -> None:
    counts = Counter(o.status for o in report.outcomes)
    context.log.info(
        "landing zone %s: %s; %d row(s) rejected in files that landed",
        where,
        ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no files",
        report.rejected_rows,
    )
    for outcome in report.quarantined:
        context.log.error(
            "quarantined %s (%s): %s -> %s",
            outcome.key,
            outcome.code,
            outcome.message,
            outcome.moved_to,
        )


def _alert_rejections(report: IngestionReport, alerts: AlertsResource, where: str) -> None:
    """One alert per run that held back a file or rows: nothing is ignored in silence."""
    partial = [o for o in report.ingested if o.rows_rejected]
    if not report.quarantined and not partial:
        return
    alerts.emit(
        FILES_REJECTED,
        f"{len(report.quarantined)} file(s) quarantined and {report.rejected_rows:,} row(s) "
        f"rejected in {len(partial)} file(s) that landed, in {where}",
        {
            "quarantined": [_outcome_summary(o) for o in report.quarantined],
            "partially_ingested": [_outcome_summary(o) for o in partial],
        },
    )


def _outcome_summary(outcome) -> dict:
    return {
        "file": outcome.key,
        "code": outcome.code,
        "rows_in": outcome.rows_in,
        "rows_rejected": outcome.rows_rejected,
        "rejected_by_code": outcome.rejected_by_code,
        "moved_to": outcome.moved_to,
    }


def _table_metadata(report: IngestionReport, ledger: pd.DataFrame, table: str) -> dict:
    files = ledger[ledger["table_name"] == table]
    new = [o for o in report.ingested if o.table == table]
    return {
        "new_files": dg.MetadataValue.md(_outcome_table(new)),
        "new_rows": sum(o.rows_landed for o in new),
        "rejected_rows": sum(o.rows_rejected for o in new),
        "files_total": len(files),
        "rows_landed_total": int(files["rows"].sum()) if len(files) else 0,
        "quarantined_this_run": dg.MetadataValue.md(
            "\n".join(
                f"- `{q.key}`: **{q.code}** {q.message} -> `{q.moved_to}`"
                for q in report.quarantined
            )
            or "none"
        ),
        "outcomes_this_run": dg.MetadataValue.json(
            dict(Counter(o.status for o in report.outcomes))
        ),
        "deferred": dg.MetadataValue.json([o.key for o in report.with_status(DEFERRED)]),
        "skipped": dg.MetadataValue.json({o.key: o.message for o in report.with_status(SKIPPED)}),
    }


def _outcome_table(outcomes: list) -> str:
    if not outcomes:
        return "none"
    rows = [
        "| file | layout | rows in | landed | returns | rejected (by code) | rejected rows |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for o in outcomes:
        codes = ", ".join(f"{c} {n}" for c, n in o.rejected_by_code.items()) or "-"
        rows.append(
            f"| `{o.key}` | {o.layout} | {o.rows_in:,} | {o.rows_landed:,} | {o.returns_rows:,} | "
            f"{o.rows_rejected:,} ({codes}) | {f'`{o.moved_to}`' if o.moved_to else '-'} |"
        )
    return "\n".join(rows)


@dg.asset(
    group_name=GROUP,
    deps=[dg.AssetKey(name) for name in LAKE_TABLES if name != "raw_sales_monthly"],
    kinds={"pandas", "parquet"},
    output_required=False,
)
def sales_history(context: dg.AssetExecutionContext, lake: LakeResource):
    """Validated daily unit sales per series (long format), dense, with prices and events."""
    store = lake.lake()
    sales = store.read_table("sales")
    if sales is None:
        _no_sales_yet(context, store)
        return
    history = build_sales_history(
        sales,
        store.read_table("prices"),
        store.read_table("calendar"),
        store.read_table("products"),
    )
    metadata = history_metadata(history)
    metadata["net_return_days"] = int((sales[UNITS] < 0).sum())
    yield dg.Output(history, metadata=metadata)


def _no_sales_yet(context: dg.AssetExecutionContext, store) -> None:
    """Nothing to build. When files were quarantined, say which: that is why (a failure);
    otherwise the history simply waits for its first sales file (skipped, not failed)."""
    quarantined = store.quarantine_log()
    if not quarantined.empty:
        latest = quarantined.tail(5)
        names = "; ".join(f"{r.source} ({r.code})" for r in latest.itertuples())
        raise dg.Failure(
            f"no sales rows have landed: {len(quarantined)} file(s) were quarantined instead, "
            f"latest {names}. Their reasons are beside them in the quarantine folder."
        )
    context.log.info(
        "no sales have been ingested yet: sales_history is built once a sales file lands"
    )


def history_metadata(history: pd.DataFrame) -> dict:
    return {
        "dagster/row_count": len(history),
        "series": int(history[UNIQUE_ID].nunique()),
        "first_day": str(history[DS].min().date()),
        "last_day": str(history[DS].max().date()),
        "filled_days": int(history[IS_FILLED].sum()),
        "units_total": float(history[Y].sum()),
        "preview": dg.MetadataValue.md(history.head(10).to_markdown(index=False)),
    }
