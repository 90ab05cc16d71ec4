"""The registered model ``demand_forecaster``: the ensemble of fitted families as an MLflow pyfunc.

:class:`DemandForecasterModel` wraps an ``ml.ensemble.forecaster.EnsembleForecaster`` (the
fitted families, the learned weights and the interval calibration) for MLflow. Its input
follows mlforecast's convention:

* a frame with a ``unique_id`` column naming the series to forecast (an empty frame, or the id
  ``"*"``, means every series);
* the horizon ``h`` and the interval ``level`` list as params (an ``h`` or ``level`` column of
  the input, when given, wins over the params);
* optional future rows ``unique_id, ds, sell_price``: a what-if on prices -- the members that
  learn from prices forecast again with those prices, the others keep their forecast.

The output is the long forecast frame ``unique_id, ds, Ensemble, Ensemble-lo/hi-<level>,
model_version``. The members' forecast of every series is made once, when the model is logged,
and saved with it; ``load_context`` reads it back, so loading is quick and a request only
slices it and adds the bounds (calibrated quantiles x series scale).
The model version is the ``model_version`` key of the model config (pass it to
``mlflow.pyfunc.load_model(..., model_config=...)``), else the id of the run that logged it.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

import cloudpickle
import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from mlflow.pyfunc import PythonModel
from mlflow.types.schema import ColSpec, Schema

# EnsembleForecaster is imported here, not only used: versions pickled before the ensemble
# package existed name it ml.pyfunc.EnsembleForecaster (see ml/__init__.py).
from ml.ensemble.forecaster import DEFAULT_LEVELS, KEYS, EnsembleForecaster
from ml.ensemble.weights import Ensemble, combine
from ml.models.base import Forecaster
from ml.schema import DS, SELL_PRICE, UNIQUE_ID

logger = logging.getLogger(__name__)

MODEL_VERSION = "model_version"
ALL_SERIES = "*"
DEFAULT_H = 28
FORECASTER_ARTIFACT = "forecaster"
FORECASTER_FILE = "forecaster.pkl"
FORECASTS_FILE = "member_forecasts.parquet"  # the members' forecasts at logging time
RUN_FILE = "logged_by.json"
# pins of the logging environment; the project itself is not pinned (it is installed locally,
# never from a package index)
REQUIREMENTS = (
    "mlflow",
    "pandas",
    "numpy",
    "scipy",
    "statsforecast",
    "xgboost",
    "torch",
    "prophet",
    "cloudpickle",
)


# -- the pyfunc ----------------------------------------------------------------------------
class DemandForecasterModel(PythonModel):
    """MLflow pyfunc over an :class:`EnsembleForecaster` artifact (see the module docstring)."""

    def __init__(self, max_horizon: int = DEFAULT_H) -> None:
        self.max_horizon = max_horizon

    def load_context(self, context) -> None:
        folder = Path(context.artifacts[FORECASTER_ARTIFACT])
        with open(folder / FORECASTER_FILE, "rb") as handle:
            self.forecaster_: EnsembleForecaster = cloudpickle.load(handle)
        config = dict(context.model_config or {})
        self.model_version_ = str(config.get(MODEL_VERSION) or _logged_run_id(folder))
        self.base_ = self._precomputed(self._member_forecasts(folder))
        self.series_ = pd.Index(self.base_[UNIQUE_ID].unique())

    @property
    def alias(self) -> str:
        """The forecast column of the ensemble (``Ensemble``)."""
        return self.forecaster_.alias

    def base_prices(self) -> pd.Series | None:
        """The price each series' baseline forecast assumes (what a what-if moves from)."""
        return self.forecaster_.base_prices()

    def _member_forecasts(self, folder: Path) -> pd.DataFrame:
        """The members' forecasts saved when the model was logged (computed if absent)."""
        saved = folder / FORECASTS_FILE
        if saved.exists():
            return pd.read_parquet(saved)
        return self.forecaster_.member_forecasts(self.max_horizon)

    def _precomputed(self, forecasts: pd.DataFrame) -> pd.DataFrame:
        """Member forecasts plus the ensemble point, horizon step and interval scale."""
        forecaster = self.forecaster_
        calibration = forecaster.ensemble.calibration
        point = combine(forecasts, forecaster.ensemble.weights)
        out = forecasts.assign(
            **{
                forecaster.alias: point,
                "_step": forecasts.groupby(UNIQUE_ID, sort=False).cumcount().to_numpy() + 1,
            }
        )
        if calibration is not None:
            out["_scale"] = calibration.row_scale(forecasts[UNIQUE_ID], point)
        return out

    def predict(
        self, context, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        h, levels = _horizon(frame, params), _levels(frame, params)
        ids = self._series(frame)
        whatif = _whatif_rows(frame)
        if whatif is not None or h > self.max_horizon:
            forecasts = self._fresh(h, ids, whatif)
        else:
            forecasts = self.base_[self.base_[UNIQUE_ID].isin(ids) & (self.base_["_step"] <= h)]
        out = self.forecaster_.combine(forecasts.reset_index(drop=True), levels)
        return out.assign(**{MODEL_VERSION: self.model_version_})

    def _series(self, frame: pd.DataFrame) -> pd.Index:
        if UNIQUE_ID not in frame.columns or frame.empty:
            return self.series_
        asked = pd.Index(frame[UNIQUE_ID].astype(str).unique())
        if ALL_SERIES in asked:
            return self.series_
        unknown = asked.difference(self.series_)
        if len(unknown):
            raise ValueError(f"unknown series ids: {list(unknown[:5])} ({len(unknown)} in all)")
        return asked

    def _fresh(self, h: int, ids: pd.Index, whatif: pd.DataFrame | None) -> pd.DataFrame:
        """Member forecasts computed now: a longer horizon, or new prices for some rows."""
        forecaster = self.forecaster_
        X_df = _future_prices(forecaster, h, whatif)
        if h > self.max_horizon:
            forecasts = forecaster.member_forecasts(h, X_df)
            return forecasts[forecasts[UNIQUE_ID].isin(ids)]
        base = self.base_[self.base_["_step"] <= h]
        movers = forecaster.price_members
        if not movers:
            return base[base[UNIQUE_ID].isin(ids)]
        fresh = forecaster.member_forecasts(h, X_df, movers)
        stale = [c for c in fresh.columns if c not in KEYS] + [forecaster.alias, "_scale"]
        forecasts = base.drop(columns=stale, errors="ignore").merge(fresh, on=KEYS, how="left")
        return forecasts[forecasts[UNIQUE_ID].isin(ids)]


def _request_value(frame: pd.DataFrame, params: Mapping | None, name: str):
    """A request setting: a column of the input first (it is explicit), then the params."""
    if name in frame.columns and frame[name].notna().any():
        return frame[name].dropna().iloc[0]
    return (params or {}).get(name)


def _horizon(frame: pd.DataFrame, params: Mapping | None) -> int:
    value = _request_value(frame, params, "h")
    h = int(value) if value is not None else DEFAULT_H
    if h < 1:
        raise ValueError(f"horizon h must be >= 1, got {h}")
    return h


def _levels(frame: pd.DataFrame, params: Mapping | None) -> list[int]:
    value = _request_value(frame, params, "level")
    if value is None:
        return list(DEFAULT_LEVELS)
    levels = sorted({int(v) for v in np.atleast_1d(value)})
    if any(not 0 < lv < 100 for lv in levels):
        raise ValueError(f"levels must lie in (0, 100), got {levels}")
    return levels


def _whatif_rows(frame: pd.DataFrame) -> pd.DataFrame | None:
    """The future price rows of a what-if request, or None."""
    if not {DS, SELL_PRICE} <= set(frame.columns):
        return None
    rows = frame.dropna(subset=[DS, SELL_PRICE])
    if rows.empty:
        return None
    rows = rows[[UNIQUE_ID, DS, SELL_PRICE]].assign(**{DS: pd.to_datetime(rows[DS])})
    return rows.drop_duplicates(KEYS, keep="last")


def _future_prices(forecaster: EnsembleForecaster, h: int, whatif) -> pd.DataFrame | None:
    """Future exogenous rows of the price-sensitive members with the what-if prices applied."""
    from feature_store.future import future_exogenous

    movers = forecaster.price_members
    if whatif is None or not movers:
        return None
    future = future_exogenous(movers[0].history_, h, None)
    merged = future.merge(whatif, on=KEYS, how="left", suffixes=("", "_new"))
    merged[SELL_PRICE] = merged[f"{SELL_PRICE}_new"].fillna(merged[SELL_PRICE])
    return merged.drop(columns=f"{SELL_PRICE}_new")


def _logged_run_id(folder: Path) -> str:
    """The id of the run that logged the model (kept next to the artifact), or 'unknown'."""
    info = folder / RUN_FILE
    return json.loads(info.read_text()).get("run_id", "unknown") if info.exists() else "unknown"


# -- logging -------------------------------------------------------------------------------
def input_example(series: Sequence[str]) -> pd.DataFrame:
    """A small request: two series ids (the what-if columns ``ds, sell_price`` are optional)."""
    return pd.DataFrame({UNIQUE_ID: [str(s) for s in list(series)[:2]]})


def model_signature(forecaster: EnsembleForecaster, example: pd.DataFrame, forecasts: pd.DataFrame):
    """Signature from the example and its forecast; the what-if columns are optional."""
    levels = list(DEFAULT_LEVELS)
    forecasts = forecasts[forecasts[UNIQUE_ID].isin(example[UNIQUE_ID])]
    output = forecaster.combine(forecasts, levels).assign(**{MODEL_VERSION: "1"})
    params = {"h": DEFAULT_H, "level": levels}
    signature = infer_signature(example, output, params=params)
    signature.inputs = Schema(
        [
            ColSpec("string", UNIQUE_ID),
            ColSpec("datetime", DS, required=False),
            ColSpec("double", SELL_PRICE, required=False),
        ]
    )
    return signature


def pip_requirements() -> list[str]:
    """Pinned requirements of the environment that logged the model (those installed)."""
    pins = []
    for name in REQUIREMENTS:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def log_demand_forecaster(
    models: Sequence[Forecaster],
    ensemble: Ensemble,
    history_tail: pd.DataFrame,
    name: str = "demand_forecaster",
    registered_model_name: str | None = None,
    max_horizon: int = DEFAULT_H,
    metadata_tags: Mapping[str, str] | None = None,
):
    """Log the ensemble as a pyfunc in the ACTIVE run; returns MLflow's ``ModelInfo``.

    ``models`` are the fitted families (members the weights do not know are dropped),
    ``ensemble`` their learned weights and interval calibration, ``history_tail`` (recent
    days of) the history the models were fitted on: the series served and the origin. Code is
    not bundled: loading needs this project installed.
    """
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("log_demand_forecaster needs an active MLflow run")
    known = set(ensemble.weights.members)
    members = [m for m in models if m.alias in known]
    forecaster = EnsembleForecaster.from_fitted(members, ensemble, history_tail)
    example = input_example(forecaster.series_)
    forecasts = forecaster.member_forecasts(max_horizon)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / FORECASTER_ARTIFACT
        folder.mkdir()
        with open(folder / FORECASTER_FILE, "wb") as handle:
            cloudpickle.dump(forecaster, handle)
        forecasts.to_parquet(folder / FORECASTS_FILE, index=False)
        (folder / RUN_FILE).write_text(json.dumps({"run_id": run.info.run_id}))
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=DemandForecasterModel(max_horizon),
            artifacts={FORECASTER_ARTIFACT: str(folder)},
            signature=model_signature(forecaster, example, forecasts),
            input_example=example,
            pip_requirements=pip_requirements(),
            registered_model_name=registered_model_name,
            metadata=dict(metadata_tags or {}),
            model_config={MODEL_VERSION: ""},  # load_model(model_config=...) fills it in
        )
