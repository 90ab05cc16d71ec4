# ruff: noqa: I001
"""Registers a small demand_forecaster version with the code of a revision from before ml/ was
split by domain (run by test_old_layout.py in a subprocess, with that revision on sys.path).

The imports name the OLD module paths on purpose: they are what that revision had (so the
import sorter, which cannot find them any more, is told to leave them).
"""

import json
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from ml.backtest import cross_validation
from ml.ensemble import ENSEMBLE, Ensemble, EnsembleWeights, combine
from ml.ensemble_intervals import ResidualCalibration
from ml.models.moving_average import MovingAverage
from ml.models.seasonal_naive import SeasonalNaive
from ml.models.xgboost import XGBoostForecaster
from ml.pyfunc import log_demand_forecaster
from ml.registry import CHAMPION, promote, register_version
from ml.schema import CUTOFF, DS, SELL_PRICE, UNIQUE_ID, Y
from ml.tracking import TrackingConfig, tracked_run

H = 7


def history() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    dates = pd.date_range("2024-01-01", periods=120, freq="D")
    weekend = 3 * (dates.dayofweek >= 5)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    UNIQUE_ID: f"S_1__ITEM_{i}",
                    DS: dates,
                    Y: rng.poisson(5 + 2 * i + weekend).astype(float),
                    SELL_PRICE: 2.0 + i,
                }
            )
            for i in range(3)
        ],
        ignore_index=True,
    )


def ensemble(frame: pd.DataFrame):
    xgb = XGBoostForecaster(
        lags=(1, 7),
        rolling_lags=(1,),
        rolling_windows=(7,),
        n_estimators=20,
        max_depth=3,
        calibration_horizon=H,
    )
    members = [m.fit(frame) for m in (SeasonalNaive(), MovingAverage(), xgb)]
    cv = cross_validation(SeasonalNaive(), frame, H, n_windows=2, step_size=H)
    naive = cross_validation(MovingAverage(), frame, H, n_windows=2, step_size=H)
    cv = cv.merge(naive.drop(columns=[Y]), on=[UNIQUE_ID, DS, CUTOFF])
    half = EnsembleWeights("t", pd.Series({"SeasonalNaive": 0.5, "MovingAverage": 0.5}))
    cv[ENSEMBLE] = combine(cv, half)
    weights = pd.Series({"SeasonalNaive": 0.3, "MovingAverage": 0.2, "XGBoost": 0.5})
    calibration = ResidualCalibration.from_backtest(cv, ENSEMBLE)
    return members, Ensemble(EnsembleWeights("t", weights), calibration)


def main(out: Path) -> None:
    frame = history()
    members, weighted = ensemble(frame)
    uri = f"sqlite:///{out / 'mlflow.db'}"
    config = TrackingConfig(uri, "old-layout", str(out / "artifacts"))
    with tracked_run(config, "demand_forecaster") as run:
        info = log_demand_forecaster(members, weighted, frame)
    client = config.client()
    version = register_version(
        client,
        info.model_uri,
        {"code_version": "old-layout"},
        run_id=run.info.run_id,
        model_id=info.model_id,
    )
    promote(client, "demand_forecaster", version.version)
    mlflow.set_registry_uri(uri)
    model = mlflow.pyfunc.load_model(f"models:/demand_forecaster@{CHAMPION}")
    ids = pd.DataFrame({UNIQUE_ID: ["S_1__ITEM_0", "S_1__ITEM_2"]})
    pred = model.predict(ids, params={"h": H, "level": [80]})
    (out / "expected.json").write_text(pred.to_json(orient="records", date_format="iso"))
    print(json.dumps({"uri": uri, "version": str(version.version)}))


main(Path(sys.argv[1]))
