"""A small fitted ensemble, a throw-away MLflow registry, and the ensemble registered in it.

Tests (the pyfunc, serving) and ``bench/bench_serving.py`` register the same kind of version:
two baselines and a price-aware XGBoost whose interval calibration comes from an equal-weight
naive backtest, so any weights can be put on the members without refitting anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import mlflow
import pandas as pd

from ml.ensemble.intervals import ResidualCalibration
from ml.ensemble.weights import ENSEMBLE, Ensemble, EnsembleWeights, combine
from ml.evaluation.backtest import cross_validation
from ml.models.moving_average import MovingAverage
from ml.models.seasonal_naive import SeasonalNaive
from ml.models.xgboost import XGBoostForecaster
from ml.registry.pyfunc import log_demand_forecaster
from ml.registry.tracking import TrackingConfig, tracked_run
from ml.registry.versions import MODEL_NAME, promote, register_version
from ml.schema import CUTOFF, DS, UNIQUE_ID, Y


def ensemble_parts(
    history: pd.DataFrame, h: int, xgboost: Mapping, n_windows: int = 2
) -> tuple[list, ResidualCalibration]:
    """Fitted members (two baselines, XGBoost with the ``xgboost`` hyper-parameters) and the
    interval calibration of their equal-weight naive backtest."""
    xgb = XGBoostForecaster(**xgboost, calibration_horizon=h)
    members = [m.fit(history) for m in (SeasonalNaive(), MovingAverage(), xgb)]
    cv = cross_validation(SeasonalNaive(), history, h, n_windows=n_windows, step_size=h)
    naive = cross_validation(MovingAverage(), history, h, n_windows=n_windows, step_size=h)
    cv = cv.merge(naive.drop(columns=[Y]), on=[UNIQUE_ID, DS, CUTOFF])
    equal = EnsembleWeights("equal", pd.Series({"SeasonalNaive": 0.5, "MovingAverage": 0.5}))
    cv[ENSEMBLE] = combine(cv, equal)
    return members, ResidualCalibration.from_backtest(cv, ENSEMBLE)


def sqlite_tracking(folder: Path, experiment: str) -> TrackingConfig:
    """Tracking store and registry in one SQLite file under ``folder``, artifacts beside it."""
    return TrackingConfig(f"sqlite:///{folder}/mlflow.db", experiment, str(folder / "artifacts"))


@contextmanager
def tracking_uri_restored() -> Iterator[None]:
    """MLflow keeps the tracking URI in a global that ``tracked_run`` moves: put it back."""
    previous = mlflow.get_tracking_uri()
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)


def register_ensemble(
    config: TrackingConfig,
    members: Sequence,
    ensemble: Ensemble,
    history: pd.DataFrame,
    tags: Mapping[str, str],
    *,
    run_name: str = "ensemble",
    champion: bool = False,
    **log_options,
):
    """Log the demand forecaster in one run and register it (``champion``: give it the alias).

    Returns the logged model's info and the registered version.
    """
    with tracked_run(config, run_name) as run:
        info = log_demand_forecaster(members, ensemble, history, **log_options)
    client = config.client()
    version = register_version(
        client, info.model_uri, dict(tags), run_id=run.info.run_id, model_id=info.model_id
    )
    if champion:
        promote(client, MODEL_NAME, version.version)
    return info, version
