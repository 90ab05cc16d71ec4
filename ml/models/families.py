"""The one list of model families: everything that names a family is generated from it.

A :class:`FamilySpec` says what the family is called (``key``: the ``<key>_model`` asset, the
MLflow run and the ``family_params`` entry), which forecast columns its models produce
(``aliases``, as in ``<alias>-lo-80``), how to build them, whether the work is per series
(fanned out over processes or a Dask cluster) or one global model, its weight in the design
documents' fixed scheme, and whether it joins the ensemble. The Dagster model assets, the
ensemble's inputs and members, the registered model's members, the design weights and the
README's family table (kept equal by a test) all read :data:`FAMILIES`.

Adding a family: write its module (one forecaster class following ``ml.models.base``), then
one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ml.models.base import Forecaster


@dataclass(frozen=True)
class FamilySpec:
    """One forecaster family."""

    key: str
    aliases: tuple[str, ...]
    factory: Callable[..., list[Forecaster]]
    per_series: bool
    description: str
    design_weight: float = 0.0
    in_ensemble: bool = True
    # trains on the feature store: the asset depends on ``features`` and hands the table over
    reads_features: bool = False
    # its models keep a sample of the training-set rows they got (``training_sample_``): a
    # blocking ``no_future_leakage`` check rebuilds them. The LSTM reads only target-day
    # features (known in advance) beside its own past sales, so it has no such rows.
    audits_training_rows: bool = False

    @property
    def asset(self) -> str:
        return f"{self.key}_model"

    def models(
        self,
        params: dict | None = None,
        n_workers: int | None = None,
        scheduler_address: str | None = None,
    ) -> list[Forecaster]:
        """Fresh models with ``params`` (hyper-parameters); per-series families also get the
        parallel backend."""
        kwargs = dict(params or {})
        if self.per_series:
            kwargs |= {"n_workers": n_workers, "scheduler_address": scheduler_address}
        return self.factory(**kwargs)


def _baseline(**_: object) -> list[Forecaster]:
    from ml.models.moving_average import MovingAverage
    from ml.models.seasonal_naive import SeasonalNaive

    return [SeasonalNaive(season_length=7), MovingAverage(window=7)]


def _arima(**params: object) -> list[Forecaster]:
    from ml.models.arima import ARIMA

    return [ARIMA(**params)]


def _prophet(**params: object) -> list[Forecaster]:
    from ml.models.prophet import Prophet

    return [Prophet(**params)]


def _xgboost(**params: object) -> list[Forecaster]:
    from ml.models.xgboost import XGBoostForecaster

    return [XGBoostForecaster(**params)]


def _lstm(**params: object) -> list[Forecaster]:
    from ml.models.lstm import LSTMForecaster

    return [LSTMForecaster(**params)]


FAMILIES: tuple[FamilySpec, ...] = (
    FamilySpec(
        "baseline",
        ("SeasonalNaive", "MovingAverage"),
        _baseline,
        per_series=False,
        description="Seasonal-naive (weekly) and 7-day moving-average backtest forecasts.",
        in_ensemble=False,
    ),
    FamilySpec(
        "arima",
        ("ARIMA",),
        _arima,
        per_series=True,
        description="Per-series SARIMA backtest forecasts (bounded search, weekly season).",
        design_weight=0.20,
    ),
    FamilySpec(
        "prophet",
        ("Prophet",),
        _prophet,
        per_series=True,
        description="Per-series Prophet backtest forecasts with weekly/yearly seasonality and "
        "events.",
        design_weight=0.25,
    ),
    FamilySpec(
        "xgboost",
        ("XGBoost",),
        _xgboost,
        per_series=False,
        description="Global direct XGBoost (Tweedie) backtest forecasts over all series, trained "
        "on the feature store's point-in-time rows.",
        design_weight=0.30,
        reads_features=True,
        audits_training_rows=True,
    ),
    FamilySpec(
        "lstm",
        ("LSTM",),
        _lstm,
        per_series=False,
        description="Global LSTM (PyTorch, CPU) backtest forecasts over all series, with the "
        "feature store's target-day features as covariates.",
        design_weight=0.25,
        reads_features=True,
    ),
)
BY_KEY = {spec.key: spec for spec in FAMILIES}
ENSEMBLE_FAMILIES = tuple(spec for spec in FAMILIES if spec.in_ensemble)
# Forecast columns (model aliases) that may join the ensemble, in family order.
ENSEMBLE_ALIASES = tuple(alias for spec in ENSEMBLE_FAMILIES for alias in spec.aliases)
# The design documents' fixed weights, the fallback when backtests cannot learn any.
DESIGN_WEIGHTS = {alias: spec.design_weight for spec in ENSEMBLE_FAMILIES for alias in spec.aliases}


def family(key: str) -> FamilySpec:
    """The family called ``key``, or a ValueError naming the known ones."""
    if key not in BY_KEY:
        raise ValueError(f"unknown family {key!r}; known: {sorted(BY_KEY)}")
    return BY_KEY[key]
