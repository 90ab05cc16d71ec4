"""Plots logged with model runs (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ml.schema import CUTOFF, DS, UNIQUE_ID, Y, forecast_column  # noqa: E402


def forecast_vs_actual(
    cv: pd.DataFrame,
    aliases: Sequence[str],
    history: pd.DataFrame,
    n_series: int = 4,
    context_days: int = 56,
    level: int = 80,
):
    """Last backtest window of the ``n_series`` busiest series: history, actuals, forecasts."""
    last = cv[cv[CUTOFF] == cv[CUTOFF].max()]
    busiest = last.groupby(UNIQUE_ID)[Y].sum().nlargest(n_series).index
    fig, axes = plt.subplots(len(busiest), 1, figsize=(10, 2.6 * len(busiest)), squeeze=False)
    for ax, uid in zip(axes[:, 0], busiest, strict=True):
        _panel(ax, uid, last[last[UNIQUE_ID] == uid], history, aliases, context_days, level)
    fig.tight_layout()
    return fig


def _panel(ax, uid, window, history, aliases, context_days, level):
    start = window[DS].min() - pd.Timedelta(days=context_days)
    past = history[
        (history[UNIQUE_ID] == uid) & (history[DS] >= start) & (history[DS] < window[DS].min())
    ]
    ax.plot(past[DS], past[Y], color="0.6", lw=1, label="history")
    ax.plot(window[DS], window[Y], color="black", lw=1.2, label="actual")
    for alias in aliases:
        ax.plot(window[DS], window[alias], lw=1.2, label=alias)
        lo, hi = forecast_column(alias, "lo", level), forecast_column(alias, "hi", level)
        if lo in window and hi in window:
            ax.fill_between(window[DS], window[lo], window[hi], alpha=0.15)
    ax.set_title(uid, fontsize=9)
    ax.legend(fontsize=7, ncol=len(aliases) + 2, loc="upper left")
