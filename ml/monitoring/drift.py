"""Feature and target drift with Evidently: the only module that imports it.

:func:`feature_drift` compares a reference window (the tail of the training window) with the
latest window of the offline feature table and returns a small :class:`DriftSummary`: per column
the drift score and test of Evidently's ``DataDriftPreset`` (method picked per column type), the
Kullback-Leibler divergence (``kl_div``, the design documents' retraining signal), the share of
drifted columns, and the HTML report written where the caller asks. A KL divergence counts
towards retraining (``kl_drifted``) only when the column's drift test is significant too: on a
week of rows the binned KL estimate alone exceeds 0.1 by chance. :func:`historical_kl` replays
the same comparison over past weeks, to set the KL threshold from what ordinary weeks show.
Nothing else in the code base needs to know Evidently's types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from feature_store.definitions import FEATURES
from ml.schema import DS, Y

# Inputs a change of which is not drift: calendar features follow the calendar (a week in
# December is not "drift", and the monitored windows are short) and static codes name the series.
UNMONITORED_FAMILIES = ("calendar", "static")


def monitored_columns(model_features: Sequence[str] | None = None) -> tuple[str, ...]:
    """The target and the model inputs drift watches: ``model_features`` (a registered version's
    ``model_features`` tag: what its members read) less the calendar and static ones and those
    the feature table does not store (the join's ``horizon`` and same-weekday picks, which
    repeat stored lags); every stored demand and price feature when no version says."""
    family = {f.name: f.family for f in FEATURES}
    names = family if model_features is None else dict.fromkeys(model_features)
    watched = [n for n in names if family.get(n) not in (None, *UNMONITORED_FAMILIES)]
    return (Y, *watched)


KL_METHOD = "kl_div"


@dataclass(frozen=True)
class DriftSpec:
    """What to compare and when to call it significant."""

    reference_days: int = 28
    current_days: int = 7
    kl_threshold: float = 0.1
    drifted_share_limit: float = 0.5
    max_rows: int = 20_000
    seed: int = 0
    columns: tuple[str, ...] = field(default_factory=monitored_columns)
    kl_columns: tuple[str, ...] | None = None  # columns whose KL may trigger (None: all)


@dataclass(frozen=True)
class Windows:
    """Inclusive day spans of the reference and current windows."""

    reference_start: pd.Timestamp
    reference_end: pd.Timestamp
    current_start: pd.Timestamp
    current_end: pd.Timestamp

    def describe(self) -> dict[str, str]:
        return {name: str(pd.Timestamp(value).date()) for name, value in vars(self).items()}


@dataclass(frozen=True)
class DriftSummary:
    """The numbers a trigger and a dashboard need; ``columns`` has one row per column."""

    windows: Windows
    columns: pd.DataFrame
    drifted_share: float
    n_reference: int
    n_current: int
    html_path: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def max_kl(self) -> float:
        return float(self.columns["kl_divergence"].max()) if len(self.columns) else 0.0

    @property
    def max_kl_column(self) -> str:
        return str(self.columns.loc[self.columns["kl_divergence"].idxmax(), "column"])

    @property
    def significant_kl(self) -> float:
        """The largest KL divergence among the eligible columns whose drift test is significant
        (0 if none): a KL estimate on a week of rows is noisy, the test says whether the change
        is real. Retraining compares it with the KL threshold."""
        drifted = self._significant()
        return float(drifted["kl_divergence"].max()) if len(drifted) else 0.0

    @property
    def significant_kl_column(self) -> str:
        drifted = self._significant()
        if drifted.empty:
            return "none"
        return str(drifted.loc[drifted["kl_divergence"].idxmax(), "column"])

    def _significant(self) -> pd.DataFrame:
        return self.columns[self.columns["drifted"] & self.columns["kl_eligible"]]

    @property
    def target_kl(self) -> float:
        row = self.columns[self.columns["column"] == Y]
        return float(row["kl_divergence"].iloc[0]) if len(row) else float("nan")

    @property
    def drifted_columns(self) -> list[str]:
        return self.columns.loc[self.columns["drifted"], "column"].tolist()


def drift_windows(
    last_day: pd.Timestamp, spec: DriftSpec, reference_end: pd.Timestamp | None = None
) -> Windows:
    """Current window = the last ``current_days`` up to ``last_day``; reference = the
    ``reference_days`` ending at ``reference_end`` (the training window's end), or just before
    the current window when there is none or it would overlap."""
    last_day = pd.Timestamp(last_day).normalize()
    current_start = last_day - pd.Timedelta(days=spec.current_days - 1)
    latest_allowed = current_start - pd.Timedelta(days=1)
    end = (
        latest_allowed
        if reference_end is None
        else min(pd.Timestamp(reference_end), latest_allowed)
    )
    return Windows(end - pd.Timedelta(days=spec.reference_days - 1), end, current_start, last_day)


def window_rows(
    table: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, spec: DriftSpec
) -> pd.DataFrame:
    """Rows of ``table`` with a known target in ``[start, end]``, the monitored columns only,
    sampled down to ``max_rows`` with a fixed seed."""
    days = pd.to_datetime(table[DS])
    rows = table[(days >= start) & (days <= end) & table[Y].notna()]
    columns = [c for c in spec.columns if c in rows.columns]
    rows = rows[columns].astype("float64")
    if len(rows) > spec.max_rows:
        rows = rows.sample(spec.max_rows, random_state=spec.seed)
    return rows.reset_index(drop=True)


def feature_drift(
    table: pd.DataFrame, windows: Windows, spec: DriftSpec, html_path: Path | None = None
) -> DriftSummary:
    """Evidently's data drift tests plus KL divergence per column, reference vs current."""
    reference = window_rows(table, windows.reference_start, windows.reference_end, spec)
    current = window_rows(table, windows.current_start, windows.current_end, spec)
    if reference.empty or current.empty:
        raise ValueError(
            f"no rows to compare in {windows.describe()}: "
            f"{len(reference)} reference, {len(current)} current"
        )
    columns = [
        c for c in reference.columns if reference[c].notna().any() and current[c].notna().any()
    ]
    snapshot = _run_report(reference[columns], current[columns], spec)
    if html_path is not None:
        html_path = Path(html_path)
        html_path.parent.mkdir(parents=True, exist_ok=True)
        snapshot.save_html(str(html_path))
    per_column = _per_column(snapshot.dict(), columns, spec)
    return DriftSummary(
        windows=windows,
        columns=per_column,
        drifted_share=float(per_column["drifted"].mean()) if len(per_column) else 0.0,
        n_reference=len(reference),
        n_current=len(current),
        html_path=html_path,
    )


def _run_report(reference: pd.DataFrame, current: pd.DataFrame, spec: DriftSpec):
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=list(reference.columns))
    report = Report(
        [
            DataDriftPreset(columns=list(reference.columns), drift_share=spec.drifted_share_limit),
            *[
                ValueDrift(column=c, method=KL_METHOD, threshold=spec.kl_threshold)
                for c in reference.columns
            ],
        ],
        include_tests=True,
    )
    return report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )


def _per_column(result: dict, columns: list[str], spec: DriftSpec) -> pd.DataFrame:
    """One row per column from the snapshot's ``dict()``: the preset's method, score and test,
    and the KL divergence."""
    failed = {
        t["metric_config"]["metric_id"]
        for t in result.get("tests", [])
        if t.get("status") == "FAIL"
    }
    rows: dict[str, dict] = {c: {"column": c} for c in columns}
    for metric in result["metrics"]:
        config = metric.get("config", {})
        column = config.get("column")
        if not config.get("type", "").endswith("ValueDrift") or column not in rows:
            continue
        if config.get("method") == KL_METHOD:
            rows[column]["kl_divergence"] = float(metric["value"])
        else:
            rows[column].update(
                method=config.get("method"),
                drift_score=float(metric["value"]),
                threshold=float(config.get("threshold") or 0.0),
                drifted=metric["id"] in failed,
            )
    frame = pd.DataFrame(list(rows.values()))
    frame["kl_eligible"] = frame["column"].isin(spec.kl_columns or frame["column"])
    frame["kl_drifted"] = (
        frame["kl_eligible"] & frame["drifted"] & (frame["kl_divergence"] > spec.kl_threshold)
    )
    return frame[
        [
            "column",
            "method",
            "drift_score",
            "threshold",
            "drifted",
            "kl_divergence",
            "kl_eligible",
            "kl_drifted",
        ]
    ]


def historical_kl(
    table: pd.DataFrame, spec: DriftSpec, last_day: pd.Timestamp, weeks: int = 6
) -> pd.DataFrame:
    """The significant KL of ordinary past weeks: the drift comparison for windows ending
    ``last_day``, a week before, ..., each against the ``reference_days`` before it. Its maximum
    is a floor for a KL threshold that does not fire on every week of real data."""
    rows = []
    for k in range(weeks):
        end = pd.Timestamp(last_day) - pd.Timedelta(days=7 * k)
        summary = feature_drift(table, drift_windows(end, spec), spec)
        rows.append(
            {
                "current_end": end,
                "kl_significant": summary.significant_kl,
                "column": summary.significant_kl_column,
                "kl_max": summary.max_kl,
                "drifted_share": summary.drifted_share,
            }
        )
    return pd.DataFrame(rows)
