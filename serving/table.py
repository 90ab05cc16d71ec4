"""A model's forecast of every series as arrays, so a request is a slice, not a model call.

Built once when a version loads (all series, the model's maximum horizon, the precomputed
levels); a row of the ``h``-day answer is exactly the model's answer for horizon ``h``, since
the pyfunc's bounds depend on the step, not on the horizon asked. Each series' answer is kept
as encoded JSON per (horizon, levels) once made, so a repeated request only joins strings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.schema import DS, SEPARATOR, UNIQUE_ID, forecast_column

MAX_SHAPES = 4  # (horizon, levels) shapes kept encoded; about 4 kB per series and shape


def split_series_id(series_id: str) -> tuple[str | None, str | None]:
    store, sep, item = series_id.partition(SEPARATOR)
    return (store, item) if sep else (None, None)


def _bound_key(side: str, level: int) -> str:
    return f"{'lower' if side == 'lo' else 'upper'}_{level}"


@dataclass(frozen=True)
class ForecastTable:
    """Point and bounds ``(series, step)`` with the days of each series."""

    series: list[str]
    index: dict[str, int]
    dates: list[list[str]]
    point: np.ndarray
    bounds: dict[int, tuple[np.ndarray, np.ndarray]]
    by_store: dict[str, list[str]]
    # encoded answers by (h, levels) then series; filled on demand, a few shapes at most
    _encoded: dict[tuple, dict[str, str]] = field(default_factory=dict, compare=False, repr=False)
    _pinned: set[tuple] = field(default_factory=set, compare=False, repr=False)  # warmed shapes

    @property
    def horizon(self) -> int:
        return self.point.shape[1]

    @property
    def levels(self) -> list[int]:
        return sorted(self.bounds)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, alias: str, levels: Sequence[int]) -> ForecastTable:
        """From the pyfunc's long output (``unique_id, ds, <alias>, <alias>-lo-<lv>, ...``)."""
        frame = frame.sort_values([UNIQUE_ID, DS], kind="stable").reset_index(drop=True)
        ids = frame[UNIQUE_ID].astype(str)
        step = ids.groupby(ids, sort=False).cumcount().to_numpy()
        series = list(pd.unique(ids))
        row = pd.Index(series).get_indexer(ids)
        width = int(step.max()) + 1 if len(step) else 0

        def grid(column: str) -> np.ndarray:
            out = np.full((len(series), width), np.nan)
            out[row, step] = frame[column].to_numpy(dtype="float64")
            return out

        days = pd.to_datetime(frame[DS]).dt.strftime("%Y-%m-%d").to_numpy()
        dates: list[list[str]] = [[] for _ in series]
        for r, day in zip(row.tolist(), days.tolist(), strict=True):
            dates[r].append(day)
        bounds = {
            lv: (grid(forecast_column(alias, "lo", lv)), grid(forecast_column(alias, "hi", lv)))
            for lv in levels
        }
        by_store: dict[str, list[str]] = {}
        for sid in series:
            store, _ = split_series_id(sid)
            if store is not None:
                by_store.setdefault(store, []).append(sid)
        return cls(
            series, {s: i for i, s in enumerate(series)}, dates, grid(alias), bounds, by_store
        )

    def rows(
        self,
        position: int,
        h: int,
        levels: Sequence[int],
        extra: dict[str, np.ndarray] | None = None,
    ) -> list[dict]:
        """The first ``h`` days of one series as JSON-ready dicts (NaN becomes null)."""
        keys, columns = (
            ["date", "quantity"],
            [self.dates[position][:h], _floats(self.point[position, :h])],
        )
        for lv in levels:
            lower, upper = self.bounds[lv]
            keys += [_bound_key("lo", lv), _bound_key("hi", lv)]
            columns += [_floats(lower[position, :h]), _floats(upper[position, :h])]
        for key, values in (extra or {}).items():
            keys.append(key)
            columns.append(_floats(values[:h]))
        return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=False)]

    def series_json(self, series_id: str, h: int, levels: Sequence[int]) -> str:
        """:meth:`series_answer` as compact JSON, made once per series and shape."""
        key = (h, tuple(levels))
        encoded = self._encoded.get(key)
        if encoded is None:
            if len(self._encoded) >= MAX_SHAPES:  # forget the on-demand shapes, keep warmed
                for old in [k for k in list(self._encoded) if k not in self._pinned]:
                    self._encoded.pop(old, None)
            encoded = self._encoded.setdefault(key, {})
        text = encoded.get(series_id)
        if text is None:
            answer = self.series_answer(series_id, h, levels)
            text = encoded[series_id] = json.dumps(answer, separators=(",", ":"), allow_nan=False)
        return text

    def warm(self, h: int, levels: Sequence[int]) -> None:
        """Encode every series for one shape now (the default request) and keep it."""
        self._pinned.add((h, tuple(levels)))
        for series_id in self.series:
            self.series_json(series_id, h, levels)

    def series_answer(self, series_id: str, h: int, levels: Sequence[int]) -> dict:
        store, item = split_series_id(series_id)
        return {
            "series_id": series_id,
            "store_id": store,
            "item_id": item,
            "rows": self.rows(self.index[series_id], h, levels),
        }


def _floats(values: np.ndarray) -> list[float | None]:
    out = values.tolist()
    if np.isnan(values).any():
        return [None if v != v else v for v in out]
    return out
