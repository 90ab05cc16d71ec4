"""Great Expectations adapter: the only module that imports ``great_expectations``.

The ``sales_history`` contract is an expectation suite; :func:`validate_frame` runs it on a
pandas frame and returns a small :class:`ValidationSummary` that the Dagster asset checks act on
without knowing GX. Landed files are checked row by row before they reach the lake
(``ml.data.cells``): those rules must name each offending row with a precise reason code, which
is a different job from a table-level contract, so they are not GX expectations.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass, field

import pandas as pd

from ml.schema import (
    DS,
    SALES_HISTORY_DTYPES,
    SELL_PRICE,
    UNIQUE_ID,
    Y,
)

# Sane date range for retail records: nothing before 2000, nothing more than a year ahead.
MIN_DATE = pd.Timestamp("2000-01-01")
MAX_FUTURE = pd.Timedelta(days=366)
EXAMPLES = 5

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass(frozen=True)
class RuleFailure:
    """One failed expectation, with what a person needs to act on it."""

    rule: str
    column: str | None
    unexpected_count: int
    examples: list
    threshold: str

    def describe(self) -> str:
        where = f" on {self.column}" if self.column else ""
        return (
            f"{self.rule}{where}: {self.unexpected_count} unexpected ({self.threshold}); "
            f"e.g. {self.examples}"
        )


@dataclass(frozen=True)
class ValidationSummary:
    """Result of one suite on one frame."""

    suite: str
    rows: int
    evaluated: int
    failures: list[RuleFailure] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failures


def validate_frame(frame: pd.DataFrame, kind: str) -> ValidationSummary:
    """Run the expectation suite for ``kind`` (a key of :data:`SUITES`) on ``frame``."""
    if kind not in SUITES:
        raise ValueError(f"unknown suite {kind!r}; known: {sorted(SUITES)}")
    gx = _gx()
    batch_definition = _batch_definition()  # creates the context the suite binds to
    suite = gx.ExpectationSuite(name=kind)
    for expectation in SUITES[kind](frame):
        suite.add_expectation(expectation)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite, result_format={"result_format": "COMPLETE", "partial_unexpected_count": EXAMPLES}
    )
    failures = [_failure(r) for r in result.results if not r.success]
    return ValidationSummary(kind, len(frame), len(result.results), failures)


@functools.cache
def _gx():
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx


@functools.cache
def _batch_definition():
    """One ephemeral context per process: creating it is cheap but not free."""
    gx = _gx()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    asset = context.data_sources.add_pandas("retailiq").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole_frame")


def _failure(result) -> RuleFailure:
    config = result.expectation_config
    kwargs = config.kwargs
    details = result.result or {}
    count = details.get("unexpected_count")
    if count is None:  # table-level expectations (a missing column, a wrong type)
        count = 1
    examples = details.get("partial_unexpected_list") or []
    if result.exception_info and result.exception_info.get("raised_exception"):
        examples = [result.exception_info.get("exception_message")]
    if not examples and "observed_value" in details:
        examples = [details["observed_value"]]
    column = kwargs.get("column") or ",".join(kwargs.get("column_list", [])) or None
    bounds = {k: kwargs[k] for k in ("min_value", "max_value", "type_list") if k in kwargs}
    return RuleFailure(
        rule=config.type,
        column=column,
        unexpected_count=int(count),
        examples=[str(e) for e in examples[:EXAMPLES]],
        threshold=", ".join(f"{k}={v}" for k, v in bounds.items()) or "must hold for every row",
    )


def _date_range(column: str) -> list:
    gx = _gx()
    latest = pd.Timestamp.now().normalize() + MAX_FUTURE
    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(column=column),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column=column, min_value=MIN_DATE.to_pydatetime(), max_value=latest.to_pydatetime()
        ),
    ]


def _exist(*columns: str) -> list:
    gx = _gx()
    return [gx.expectations.ExpectColumnToExist(column=c) for c in columns]


def _positive_price(column: str) -> list:
    gx = _gx()
    between = gx.expectations.ExpectColumnValuesToBeBetween
    return [between(column=column, min_value=0, strict_min=True)]


def _sales_history_suite(frame: pd.DataFrame) -> list:
    gx = _gx()
    types = [
        gx.expectations.ExpectColumnValuesToBeInTypeList(column=c, type_list=_type_names(dtype))
        for c, dtype in SALES_HISTORY_DTYPES.items()
    ]
    return [
        *_exist(*SALES_HISTORY_DTYPES),
        *types,
        *_date_range(DS),
        gx.expectations.ExpectColumnValuesToNotBeNull(column=Y),
        gx.expectations.ExpectColumnValuesToBeBetween(column=Y, min_value=0),
        *_positive_price(SELL_PRICE),
        gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=[UNIQUE_ID, DS]),
    ]


def _type_names(dtype: str) -> list[str]:
    """GX compares pandas dtype names; object columns hold Python strings."""
    return {"object": ["object", "str", "string"], "datetime64[ns]": ["datetime64[ns]"]}.get(
        dtype, [dtype]
    )


SUITES = {"sales_history": _sales_history_suite}
