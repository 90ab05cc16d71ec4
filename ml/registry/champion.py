"""The current champion, scored on the same backtest window as a challenger.

The champion is re-anchored on the history up to the window's cutoff (``update``: no
re-estimation; :func:`ml.ensemble.forecaster.window_forecast`) and forecasts the window. If it was
trained on data past that cutoff it has seen the window's actuals, which can only favour it: the
gate errs towards keeping the champion.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd
from mlflow.tracking import MlflowClient

from ml.ensemble.forecaster import window_forecast
from ml.evaluation.metrics import evaluate_forecasts
from ml.registry.versions import CHAMPION, MODEL_NAME, alias_version, load_version
from ml.schema import CUTOFF, DS, UNIQUE_ID

log = logging.getLogger(__name__)
CHAMPION_COLUMN = "Champion"


def champion_forecaster(client: MlflowClient, name: str = MODEL_NAME):
    """``(version, EnsembleForecaster)`` of the champion, or ``None`` when there is none."""
    version = alias_version(client, name, CHAMPION)
    if version is None:
        return None
    model = load_version(client, name, CHAMPION)
    return str(version.version), model.unwrap_python_model().forecaster_


def champion_window_metrics(
    client: MlflowClient,
    window: pd.DataFrame,
    history: pd.DataFrame,
    levels: Sequence[int] = (80, 95),
    name: str = MODEL_NAME,
) -> tuple[str, dict[str, float]] | None:
    """The champion's metrics on the rows of ``window`` (one backtest window with ``cutoff``)."""
    found = champion_forecaster(client, name)
    if found is None:
        return None
    version, forecaster = found
    cutoff = window[CUTOFF].max()
    h = int((window[DS].max() - cutoff).days)
    ids = window[UNIQUE_ID].unique()
    frame = window_forecast(forecaster, history[history[UNIQUE_ID].isin(ids)], cutoff, h, levels)
    scored = frame.rename(columns=lambda c: c.replace(forecaster.alias, CHAMPION_COLUMN, 1))
    known = history[history[DS] <= cutoff]
    summary = evaluate_forecasts(scored, known, [CHAMPION_COLUMN], levels).summary()
    metrics = {k: float(v) for k, v in summary.loc[CHAMPION_COLUMN].items() if pd.notna(v)}
    log.info("champion v%s on the window from %s: %s", version, cutoff.date(), metrics)
    return version, metrics
