"""Per-series data-quality rules from the design documents (warnings, not blockers).

* fewer than 30 days of history: excluded from training and listed;
* more than 30% of days missing (filled with zero by ingestion);
* more than 5% of values beyond 3 IQR from the quartiles;
* near-zero variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ml.schema import DS, IS_FILLED, UNIQUE_ID, Y

MIN_HISTORY_DAYS = 30
MAX_MISSING_SHARE = 0.30
MAX_OUTLIER_SHARE = 0.05
IQR_FACTOR = 3.0
MIN_VARIANCE = 1e-6


@dataclass(frozen=True)
class SeriesRule:
    """The outcome of one rule: which series it flags and why."""

    name: str
    threshold: str
    flagged: pd.DataFrame  # unique_id plus the observed statistic, worst first
    n_series: int

    @property
    def passed(self) -> bool:
        return self.flagged.empty


def series_stats(history: pd.DataFrame) -> pd.DataFrame:
    """Per-series length, missing share, outlier share and variance."""
    grouped = history.groupby(UNIQUE_ID, sort=True)[Y]
    q1, q3 = grouped.quantile(0.25), grouped.quantile(0.75)
    iqr = (q3 - q1).rename("iqr")
    bounds = pd.concat([q1.rename("q1"), q3.rename("q3"), iqr], axis=1)
    joined = history[[UNIQUE_ID, Y]].join(bounds, on=UNIQUE_ID)
    outside = (joined[Y] > joined["q3"] + IQR_FACTOR * joined["iqr"]) | (
        joined[Y] < joined["q1"] - IQR_FACTOR * joined["iqr"]
    )
    return pd.DataFrame(
        {
            "days": grouped.size(),
            "first_day": history.groupby(UNIQUE_ID)[DS].min(),
            "missing_share": history.groupby(UNIQUE_ID)[IS_FILLED].mean(),
            "outlier_share": outside.groupby(history[UNIQUE_ID]).mean(),
            "variance": grouped.var(ddof=0),
        }
    )


def short_series(history: pd.DataFrame, min_days: int = MIN_HISTORY_DAYS) -> list[str]:
    """Series with fewer than ``min_days`` days: too short to train on."""
    days = history.groupby(UNIQUE_ID).size()
    return sorted(days.index[days < min_days])


def quality_rules(history: pd.DataFrame) -> list[SeriesRule]:
    """Evaluate every warning rule on a ``sales_history`` frame."""
    stats = series_stats(history)
    rules = [
        (
            "min_history",
            stats["days"] < MIN_HISTORY_DAYS,
            "days",
            f"at least {MIN_HISTORY_DAYS} days of history",
            True,
        ),
        (
            "missing_days",
            stats["missing_share"] > MAX_MISSING_SHARE,
            "missing_share",
            f"at most {MAX_MISSING_SHARE:.0%} of days missing",
            False,
        ),
        (
            "outliers",
            stats["outlier_share"] > MAX_OUTLIER_SHARE,
            "outlier_share",
            f"at most {MAX_OUTLIER_SHARE:.0%} of values beyond {IQR_FACTOR:g} IQR",
            False,
        ),
        (
            "near_zero_variance",
            stats["variance"] < MIN_VARIANCE,
            "variance",
            f"variance at least {MIN_VARIANCE:g}",
            True,
        ),
    ]
    return [
        SeriesRule(
            name=name,
            threshold=threshold,
            flagged=stats.loc[mask, [column]]
            .sort_values(column, ascending=ascending)
            .reset_index(),
            n_series=len(stats),
        )
        for name, mask, column, threshold, ascending in rules
    ]
