"""History features: lags, rolling statistics and a same-weekday profile of past sales.

The row ``(unique_id, ds)`` holds the state *at the start of day ds*: every value is computed
from sales on days strictly before ``ds`` (lag ``k`` is the sales of day ``ds - k``, ``k >= 1``;
a window of ``w`` days covers ``ds - w .. ds - 1``). A feature needs its full span of history
and is NaN before that (no partial windows), so its meaning does not drift at a series' start.
"""

from __future__ import annotations

import numpy as np

from feature_store.definitions import (
    LAGS,
    ROLLING_STATS,
    WEEKDAY_PROFILE_WEEKS,
    WINDOWS,
    lag_name,
    rolling_name,
    weekday_profile_name,
)
from feature_store.panel import Panel, shift, window_reduce

_REDUCERS = {
    "mean": lambda block: block.mean(axis=-1),
    "std": lambda block: block.std(axis=-1, ddof=1),
    "min": lambda block: block.min(axis=-1),
    "max": lambda block: block.max(axis=-1),
}


def history_features(panel: Panel, y: np.ndarray) -> dict[str, np.ndarray]:
    """All history feature columns (float32) for the panel's long rows."""
    sales = panel.wide(y)
    out: dict[str, np.ndarray] = {}
    for k in LAGS:
        out[lag_name(k)] = panel.gather(shift(sales, k))
    out.update(rolling_features(panel, sales))
    out.update(weekday_profile(panel, sales))
    return {name: values.astype(np.float32) for name, values in out.items()}


def rolling_features(panel: Panel, sales: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, std (ddof 1), min and max of sales over the ``w`` days before each day."""
    past = shift(sales, 1)
    out = {}
    for window in WINDOWS:
        for stat in ROLLING_STATS:
            matrix = window_reduce(past, window, _REDUCERS[stat])
            out[rolling_name(stat, window)] = panel.gather(matrix)
    return out


def weekday_profile(panel: Panel, sales: np.ndarray) -> dict[str, np.ndarray]:
    """For each offset 1..7: mean sales of that weekday over the last few weeks.

    ``wday_mean_4w_j`` at day ``d`` averages days ``d - j, d - j - 7, ...`` -- so for a target
    day ``t`` reached from an anchor day, the right offset picks the latest weeks of the same
    weekday as ``t`` (see ``build_training_set``).
    """
    out = {}
    for offset in range(1, 8):
        lags = [shift(sales, offset + 7 * week) for week in range(WEEKDAY_PROFILE_WEEKS)]
        out[weekday_profile_name(offset)] = panel.gather(np.mean(lags, axis=0))
    return out
