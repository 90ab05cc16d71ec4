"""Ingestion: landed files -> lake tables -> the validated long ``sales_history``."""

import dagster as dg
import pandas as pd

from ml.data.history import build_sales_history
from ml.data.ingest import IngestionReport, ingest_pending
from ml.schema import DS, IS_FILLED, UNIQUE_ID
from orchestration.resources import LakeResource, LandingZoneResource

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
    context: dg.AssetExecutionContext, landing: LandingZoneResource, lake: LakeResource
):
    """Ingest every new landed file once; quarantine bad ones; one output per lake table."""
    report = ingest_pending(landing.source(), lake.lake())
    _log_report(context, report, landing.describe())
    if report.quarantined:
        context.log.error(
            "quarantined %d file(s): %s",
            len(report.quarantined),
            "; ".join(f"{q.key} ({q.code}): {q.message}" for q in report.quarantined),
        )
    ledger = lake.lake().ledger()
    for asset_name, (table, _) in LAKE_TABLES.items():
        yield dg.MaterializeResult(
            asset_key=asset_name, metadata=_table_metadata(report, ledger, table)
        )


def _log_report(context, report: IngestionReport, where: str) -> None:
    context.log.info(
        "landing zone %s: %d new file(s) ingested, %d quarantined, %d already ingested, "
        "%d deferred",
        where,
        len(report.ingested),
        len(report.quarantined),
        len(report.already_ingested),
        len(report.deferred),
    )


def _table_metadata(report: IngestionReport, ledger: pd.DataFrame, table: str) -> dict:
    files = ledger[ledger["table_name"] == table]
    new = [f for f in report.ingested if f.table == table]
    return {
        "new_files": dg.MetadataValue.md(
            "\n".join(f"- `{f.key}` ({f.kind}, {f.rows:,} rows)" for f in new) or "none"
        ),
        "new_rows": sum(f.rows for f in new),
        "files_total": len(files),
        "rows_total": int(files["rows"].sum()) if len(files) else 0,
        "quarantined_this_run": dg.MetadataValue.md(
            "\n".join(
                f"- `{q.key}`: **{q.code}** {q.message} -> `{q.moved_to}`"
                for q in report.quarantined
            )
            or "none"
        ),
        "deferred": dg.MetadataValue.json(report.deferred),
    }


@dg.asset(
    group_name=GROUP,
    deps=[dg.AssetKey(name) for name in LAKE_TABLES if name != "raw_sales_monthly"],
    kinds={"pandas", "parquet"},
)
def sales_history(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.Output:
    """Validated daily unit sales per series (long format), dense, with prices and events."""
    store = lake.lake()
    sales = store.read_table("sales")
    if sales is None:
        raise dg.Failure(
            "no sales have been ingested yet: drop a sales file into the landing zone",
        )
    history = build_sales_history(
        sales,
        store.read_table("prices"),
        store.read_table("calendar"),
        store.read_table("products"),
    )
    return dg.Output(history, metadata=history_metadata(history))


def history_metadata(history: pd.DataFrame) -> dict:
    return {
        "dagster/row_count": len(history),
        "series": int(history[UNIQUE_ID].nunique()),
        "first_day": str(history[DS].min().date()),
        "last_day": str(history[DS].max().date()),
        "filled_days": int(history[IS_FILLED].sum()),
        "preview": dg.MetadataValue.md(history.head(10).to_markdown(index=False)),
    }
