"""Quality gates on sales_history: GX rules block, design-document rules warn."""

import dagster as dg
import pandas as pd

from assets.ingestion.assets import sales_history
from ml.data.quality import SeriesRule, quality_rules
from ml.data.validation import RuleFailure, ValidationSummary, validate_frame
from ml.schema import DS, SALES_HISTORY_DTYPES, SELL_PRICE, UNIQUE_ID, Y

# Blocking checks: each groups the GX expectations that decide it.
BLOCKING = {
    "schema_and_types": "required columns exist with the contract's types",
    "unique_keys": "one row per (unique_id, ds), i.e. per (store_id, item_id, date)",
    "non_negative_units": "y (units) >= 0 and never null",
    "positive_prices": "sell_price > 0 where known",
    "dates_in_range": "every ds parses and lies between 2000-01-01 and a year from today",
}
WARNINGS = {
    "min_history": "series with under 30 days are excluded from training",
    "missing_days": "series with more than 30% of days missing",
    "outliers": "series with more than 5% of values beyond 3 IQR",
    "near_zero_variance": "series whose sales barely vary",
}


def _check_of(failure: RuleFailure) -> str:
    if failure.rule in ("expect_column_to_exist", "expect_column_values_to_be_in_type_list"):
        return "schema_and_types"
    if failure.rule == "expect_compound_columns_to_be_unique":
        return "unique_keys"
    if failure.column == Y:
        return "non_negative_units"
    if failure.column == SELL_PRICE:
        return "positive_prices"
    return "dates_in_range" if failure.column == DS else "schema_and_types"


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(name, asset=sales_history, description=text, blocking=True)
        for name, text in BLOCKING.items()
    ]
)
def sales_history_contract(context: dg.AssetCheckExecutionContext, sales_history: pd.DataFrame):
    """Great Expectations suite on the whole history; downstream assets wait for it."""
    summary = validate_frame(sales_history, "sales_history")
    yield from contract_results(summary)


def contract_results(summary: ValidationSummary):
    by_check: dict[str, list[RuleFailure]] = {name: [] for name in BLOCKING}
    for failure in summary.failures:
        by_check[_check_of(failure)].append(failure)
    for name, failures in by_check.items():
        yield dg.AssetCheckResult(
            check_name=name,
            asset_key=sales_history.key,
            passed=not failures,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows_checked": summary.rows,
                "rules_evaluated": summary.evaluated,
                "failing_rows": sum(f.unexpected_count for f in failures),
                "rule": BLOCKING[name],
                "failures": dg.MetadataValue.md(
                    "\n".join(f"- {f.describe()}" for f in failures) or "none"
                ),
                "expected_types": dg.MetadataValue.json(SALES_HISTORY_DTYPES)
                if name == "schema_and_types"
                else "n/a",
            },
        )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(name, asset=sales_history, description=text, blocking=False)
        for name, text in WARNINGS.items()
    ]
)
def sales_history_quality(context: dg.AssetCheckExecutionContext, sales_history: pd.DataFrame):
    """The design documents' data-quality rules, per series; they warn, never block."""
    for rule in quality_rules(sales_history):
        yield quality_result(rule)


def quality_result(rule: SeriesRule) -> dg.AssetCheckResult:
    flagged = rule.flagged
    return dg.AssetCheckResult(
        check_name=rule.name,
        asset_key=sales_history.key,
        passed=rule.passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "threshold": rule.threshold,
            "series_checked": rule.n_series,
            "series_flagged": len(flagged),
            "share_flagged": round(len(flagged) / max(rule.n_series, 1), 4),
            "first_flagged": dg.MetadataValue.md(
                flagged.head(20).to_markdown(index=False) if len(flagged) else "none"
            ),
            "all_flagged_ids": dg.MetadataValue.json(flagged[UNIQUE_ID].head(1000).tolist()),
        },
    )
