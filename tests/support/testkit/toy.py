"""Toy panels for the ensemble tests: seasonal Poisson series and backtest-shaped frames whose
members are the actuals plus noise of a known size."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.base import Forecaster
from ml.models.frames import future_frame, last_dates, prepare_history
from ml.schema import CUTOFF, DEPT_ID, DS, UNIQUE_ID, Y

H = 7


def toy_history(n_series: int = 6, days: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    frames = []
    for i in range(n_series):
        level = 5 + 3 * i
        y = rng.poisson(level * (1 + 0.3 * np.sin(2 * np.pi * np.arange(days) / 7)))
        frames.append(
            pd.DataFrame(
                {UNIQUE_ID: f"s{i}", DS: dates, Y: y.astype(float), DEPT_ID: "A" if i % 2 else "B"}
            )
        )
    return pd.concat(frames, ignore_index=True)


def toy_backtest(history: pd.DataFrame, noise: dict[str, float], n_windows: int = 3, seed: int = 1):
    """Backtest-shaped frame: each member = actual + noise of the given std (0 = perfect)."""
    rng = np.random.default_rng(seed)
    last = history[DS].max()
    cutoffs = [last - pd.Timedelta(days=H * (n_windows - i)) for i in range(n_windows)]
    parts = []
    for cutoff in cutoffs:
        rows = history[(history[DS] > cutoff) & (history[DS] <= cutoff + pd.Timedelta(days=H))]
        part = rows[[UNIQUE_ID, DS, Y]].assign(**{CUTOFF: cutoff})
        for member, std in noise.items():
            part[member] = np.maximum(part[Y] + rng.normal(0, std, len(part)), 0.0)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)[[UNIQUE_ID, DS, CUTOFF, Y, *noise]]


class Constant(Forecaster):
    """A planted broken family: ``value`` units a day for every series, under ``alias``
    (intervals +-20 %)."""

    def __init__(self, alias: str = "Constant", value: float = 500.0):
        self.alias, self.value = alias, value

    def _fit(self, df):
        self.last_ds_ = last_dates(prepare_history(df))

    def _predict(self, h, X_df, level):
        out = future_frame(self.last_ds_, h)
        out[self.alias] = self.value
        for lv in level:
            out[f"{self.alias}-lo-{lv}"] = 0.8 * self.value
            out[f"{self.alias}-hi-{lv}"] = 1.2 * self.value
        return out
