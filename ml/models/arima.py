"""(S)ARIMA per series with statsforecast, with a bounded cost.

AutoARIMA with a weekly season over a 1,900-day history costs many seconds per series (the
stepwise search fits dozens of seasonal models by exact likelihood), far too much for thousands
of series. The cost is bounded three ways, all hyper-parameters:

* ``train_window``: only the most recent days are used (a year by default) -- old dynamics
  rarely matter for a 28-day horizon and the likelihood cost grows with the length;
* ``search="fixed"`` (default): one SARIMA ``order`` x ``seasonal_order`` for every series
  (``(1,0,1)(0,1,1)_7`` -- the weekly "airline-like" model), no search;
* ``search="auto"``: AutoARIMA constrained by ``max_p``/``max_q``/``max_P``/``max_Q`` and
  ``approximation`` (CSS during the search).

``bench/bench_models.py`` measures what each choice costs and what accuracy it trades.
Intervals are the model's own (normal, from the innovation variance), clipped at 0 for unit
sales. Per-series work runs in parallel through :mod:`ml.models.parallel`.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd

from ml.models.base import check_choice
from ml.models.frames import series_tails
from ml.models.parallel import DEFAULT_CHUNKS_PER_WORKER
from ml.models.per_series import PerSeriesForecaster
from ml.schema import Y


def make_statsforecast_model(spec: dict) -> Any:
    """The statsforecast model a spec describes (imported lazily: workers pay it once)."""
    from statsforecast.models import ARIMA as SFARIMA
    from statsforecast.models import AutoARIMA

    if spec["search"] == "fixed":
        return SFARIMA(
            order=tuple(spec["order"]),
            seasonal_order=tuple(spec["seasonal_order"]),
            season_length=spec["season_length"],
            method=spec["method"],
        )
    return AutoARIMA(
        season_length=spec["season_length"],
        max_p=spec["max_p"],
        max_q=spec["max_q"],
        max_P=spec["max_P"],
        max_Q=spec["max_Q"],
        approximation=spec["approximation"],
    )


def fit_series(y: np.ndarray, spec: dict) -> Any:
    """Fit one series; convergence chatter from the optimiser is silenced.

    On sparse series the CSS start of ``CSS-ML`` can diverge (every residual NaN); the fit is
    then retried with exact maximum likelihood before the series is given up.
    """
    if np.isnan(y).any():
        raise ValueError("series has missing values")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return make_statsforecast_model(spec).fit(y)
        except ValueError:
            if spec["method"] == "ML":
                raise
            return make_statsforecast_model({**spec, "method": "ML"}).fit(y)


def forecast_series(item: tuple, h: int, levels: list[int]) -> dict:
    """Forecast one fitted series; with an ``update`` (newer y) the fitted model is re-applied."""
    model, new_y, _dates = item
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if new_y is None:
            return model.predict(h=h, level=levels or None)
        return model.forward(y=new_y, h=h, level=levels or None)


class ARIMA(PerSeriesForecaster):
    """Per-series SARIMA (fixed orders or constrained AutoARIMA) over a training window."""

    def __init__(
        self,
        season_length: int = 7,
        search: Literal["fixed", "auto"] = "fixed",
        order: tuple[int, int, int] = (1, 0, 1),
        seasonal_order: tuple[int, int, int] = (0, 1, 1),
        train_window: int | None = 364,
        max_p: int = 2,
        max_q: int = 2,
        max_P: int = 1,
        max_Q: int = 1,
        approximation: bool = True,
        method: str = "CSS-ML",
        n_workers: int | None = None,
        scheduler_address: str | None = None,
        chunks_per_worker: int = DEFAULT_CHUNKS_PER_WORKER,
        freq: str = "D",
        alias: str = "ARIMA",
    ):
        check_choice("search", search, ("fixed", "auto"))
        self.season_length = season_length
        self.search = search
        self.order = tuple(order)
        self.seasonal_order = tuple(seasonal_order)
        self.train_window = train_window
        self.max_p = max_p
        self.max_q = max_q
        self.max_P = max_P
        self.max_Q = max_Q
        self.approximation = approximation
        self.method = method
        self.n_workers = n_workers
        self.scheduler_address = scheduler_address
        self.chunks_per_worker = chunks_per_worker
        self.freq = freq
        self.alias = alias

    def _spec(self) -> dict:
        keys = ("season_length", "search", "order", "seasonal_order", "max_p", "max_q")
        keys += ("max_P", "max_Q", "approximation", "method")
        return {key: getattr(self, key) for key in keys}

    def _payloads(self, history: pd.DataFrame) -> dict[str, np.ndarray]:
        """The last ``train_window`` targets of each series."""
        tails = series_tails(history, [Y], self.train_window)
        return {uid: frame[Y].to_numpy(dtype="float64") for uid, frame in tails.items()}

    def _fit_function(self, history: pd.DataFrame):
        return partial(fit_series, spec=self._spec())

    def _forecast_function(self, h: int, X_df: pd.DataFrame | None, levels: list[int]):
        return partial(forecast_series, h=h, levels=levels)
