"""Forecast accuracy monitoring and the retraining trigger rules (no Dagster here).

Accuracy: each day's actuals are scored against the forecast that was *served* for that day,
i.e. the row of the newest forecast batch issued before the day (the batch whose first forecast
day is the latest one not after it). Per day, overall and per department: WAPE, accuracy
(100 - WAPE), bias and the empirical coverage of the stored interval, all in percent.
The history is a SQL table; re-scoring a day replaces that day's rows.

Triggers are pure functions over that history and over the drift summary's numbers; the
sensors in ``orchestration/sensors.py`` call them and turn a :class:`Trigger` into a run request
whose run key and tags come from here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ml.schema import DEPT_ID, DS, UNIQUE_ID, Y

ACCURACY_TABLE = "forecast_accuracy"
OVERALL = "overall"
TRIGGER_TAG = "retailiq/trigger"
EVIDENCE_TAG = "retailiq/evidence"
EVIDENCE_DAY_TAG = "retailiq/evidence_day"
TRIGGER_KINDS = ("accuracy", "drift", "schedule", "manual")
AUTOMATIC_TRIGGERS = ("accuracy", "drift")
ACCURACY_COLUMNS = [
    "day",
    "scope",
    "wape",
    "accuracy",
    "bias",
    "coverage",
    "interval_level",
    "n_series",
    "actual_units",
    "forecast_units",
    "mean_horizon",
    "model_versions",
    "scored_at",
]


# -- accuracy -----------------------------------------------------------------------------------
def served_forecasts(forecasts: pd.DataFrame) -> pd.DataFrame:
    """One row per series and day from the forecasts table history: the newest batch issued
    before that day (latest first forecast day not after it; latest generation breaks ties)."""
    frame = forecasts.copy()
    frame["forecast_date"] = pd.to_datetime(frame["forecast_date"])
    frame["generated_at"] = pd.to_datetime(frame["generated_at"])
    frame["_issued_for"] = frame.groupby("generated_at")["forecast_date"].transform("min")
    frame = frame.sort_values(["unique_id", "forecast_date", "_issued_for", "generated_at"])
    served = frame.drop_duplicates(["unique_id", "forecast_date"], keep="last")
    return served.drop(columns="_issued_for").reset_index(drop=True)


def score_accuracy(
    served: pd.DataFrame, history: pd.DataFrame, days: Sequence[pd.Timestamp] | None = None
) -> pd.DataFrame:
    """Daily accuracy rows (overall and per department) where actuals and forecasts meet."""
    actuals = history[[UNIQUE_ID, DS, Y, DEPT_ID]].rename(columns={DS: "forecast_date"})
    actuals["forecast_date"] = pd.to_datetime(actuals["forecast_date"])
    joined = served.merge(actuals, on=["unique_id", "forecast_date"], how="inner")
    joined = joined[joined[Y].notna()]
    if days is not None:
        joined = joined[joined["forecast_date"].isin(pd.to_datetime(list(days)))]
    if joined.empty:
        return pd.DataFrame(columns=ACCURACY_COLUMNS)
    overall = joined.assign(scope=OVERALL)
    by_dept = joined.assign(scope="dept:" + joined[DEPT_ID].fillna("unknown").astype(str))
    scored = pd.concat([overall, by_dept]).groupby(["forecast_date", "scope"], sort=True)
    rows = scored.apply(_day_scores, include_groups=False).reset_index()
    rows = rows.rename(columns={"forecast_date": "day"})
    rows["day"] = rows["day"].dt.date
    rows["scored_at"] = datetime.now(UTC).replace(tzinfo=None)
    return rows[ACCURACY_COLUMNS]


def _day_scores(group: pd.DataFrame) -> pd.Series:
    actual, predicted = group[Y].to_numpy(float), group["predicted_quantity"].to_numpy(float)
    total = actual.sum()
    wape = np.abs(actual - predicted).sum() / total * 100 if total > 0 else np.nan
    lower, upper = group["lower_bound"].to_numpy(), group["upper_bound"].to_numpy()
    inside = (actual >= lower) & (actual <= upper)
    return pd.Series(
        {
            "wape": wape,
            "accuracy": 100.0 - wape,
            "bias": (predicted.sum() - total) / total * 100 if total > 0 else np.nan,
            "coverage": float(inside.mean() * 100),
            "interval_level": int(group["interval_level"].iloc[0]),
            "n_series": int(group["unique_id"].nunique()),
            "actual_units": float(total),
            "forecast_units": float(predicted.sum()),
            "mean_horizon": float(group["horizon"].mean()),
            "model_versions": ",".join(sorted(group["model_version"].astype(str).unique())),
        }
    )


def write_accuracy(rows: pd.DataFrame, url: str) -> int:
    """Replace the scored days' rows in one transaction (re-scoring never duplicates)."""
    if rows.empty:
        return 0
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            if sa.inspect(connection).has_table(ACCURACY_TABLE):
                days = sorted({str(d) for d in rows["day"]})
                connection.execute(
                    sa.text(f"DELETE FROM {ACCURACY_TABLE} WHERE day IN :days").bindparams(
                        sa.bindparam("days", expanding=True)
                    ),
                    {"days": days},
                )
            rows.assign(day=rows["day"].astype(str)).to_sql(
                ACCURACY_TABLE, connection, if_exists="append", index=False
            )
    finally:
        engine.dispose()
    return len(rows)


def read_accuracy(url: str, scope: str | None = OVERALL) -> pd.DataFrame:
    """The accuracy history (one scope, or all), oldest day first; empty when none yet."""
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table(ACCURACY_TABLE):
                return pd.DataFrame(columns=ACCURACY_COLUMNS)
            frame = pd.read_sql_query(sa.text(f"SELECT * FROM {ACCURACY_TABLE}"), connection)
    finally:
        engine.dispose()
    if scope is not None:
        frame = frame[frame["scope"] == scope]
    frame["day"] = pd.to_datetime(frame["day"])
    return frame.sort_values(["day", "scope"]).reset_index(drop=True)


def _engine(url: str) -> sa.Engine:
    """An engine; a SQLite file's folder is created first (the embedded default)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(url)


# -- triggers -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trigger:
    """Why a retraining run is requested: its kind, evidence, and the run key that makes the
    same evidence request it only once."""

    kind: str
    run_key: str
    evidence_day: str
    evidence: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in TRIGGER_KINDS:
            raise ValueError(f"trigger kind must be one of {TRIGGER_KINDS}, got {self.kind!r}")

    def tags(self) -> dict[str, str]:
        text = json.dumps(dict(self.evidence), separators=(",", ":"), default=str)
        return {
            TRIGGER_TAG: self.kind,
            EVIDENCE_TAG: text[:1000],
            EVIDENCE_DAY_TAG: self.evidence_day,
        }


def accuracy_trigger(
    history: pd.DataFrame, threshold: float = 85.0, days: int = 3, after: str | None = None
) -> Trigger | None:
    """Accuracy below ``threshold`` on ``days`` consecutive calendar days, all after ``after``
    (the last evidence already used): the latest such run of days, or None."""
    frame = history[["day", "accuracy"]].dropna().copy()
    frame["day"] = pd.to_datetime(frame["day"])
    if after is not None:
        frame = frame[frame["day"] > pd.Timestamp(after)]
    frame = frame.sort_values("day")
    low = frame[frame["accuracy"] < threshold]
    if len(low) < days:
        return None
    streak = (low["day"].diff() != pd.Timedelta(days=1)).cumsum()
    last = low[streak == streak.iloc[-1]].tail(days)
    if len(last) < days:
        return None
    dates = [str(d.date()) for d in last["day"]]
    evidence = {
        "days": dates,
        "accuracy": [round(float(a), 2) for a in last["accuracy"]],
        "threshold": threshold,
    }
    return Trigger("accuracy", "accuracy:" + ",".join(dates), dates[-1], evidence)


def drift_trigger(
    numbers: Mapping[str, object], kl_threshold: float = 0.1, drifted_share_limit: float = 0.5
) -> Trigger | None:
    """Significant drift: the KL divergence of a column whose drift test is significant above
    ``kl_threshold``, or the drifted share of columns above ``drifted_share_limit``.
    ``numbers`` is a drift report's metadata."""
    max_kl, share = float(numbers["kl_significant"]), float(numbers["drifted_share"])
    reasons = []
    if max_kl > kl_threshold:
        reasons.append(
            f"KL {max_kl:.3f} on {numbers.get('kl_significant_column')} > {kl_threshold}"
        )
    if share > drifted_share_limit:
        reasons.append(f"drifted share {share:.2f} > {drifted_share_limit}")
    if not reasons:
        return None
    current_end, reference_end = str(numbers["current_end"]), str(numbers["reference_end"])
    evidence = {
        "reasons": reasons,
        "current": f"{numbers['current_start']}..{current_end}",
        "reference": f"{numbers['reference_start']}..{reference_end}",
    }
    return Trigger("drift", f"drift:{reference_end}:{current_end}", current_end, evidence)


def in_cooldown(evidence_day: str, last_trigger_day: str | None, cooldown_days: int) -> bool:
    """True while fewer than ``cooldown_days`` data days separate this evidence from the last
    automatic trigger: one retraining answers one episode, however many signals it raises."""
    if last_trigger_day is None or cooldown_days <= 0:
        return False
    gap = pd.Timestamp(evidence_day) - pd.Timestamp(last_trigger_day)
    return gap < pd.Timedelta(days=cooldown_days)


def latest_trigger_day(run_tags: Sequence[Mapping[str, str]]) -> str | None:
    """The newest evidence day among automatic-trigger runs' tags (None when none)."""
    days = [
        tags[EVIDENCE_DAY_TAG]
        for tags in run_tags
        if tags.get(TRIGGER_TAG) in AUTOMATIC_TRIGGERS and tags.get(EVIDENCE_DAY_TAG)
    ]
    return max(days) if days else None


def manual_trigger(reason: str, day: str | None = None) -> Trigger:
    """Tags for a retraining launched by hand (the UI's launchpad, or the CLI)."""
    day = day or str(datetime.now(UTC).date())
    return Trigger("manual", f"manual:{day}:{reason}", day, {"reason": reason})
