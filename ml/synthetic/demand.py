"""True mean demand of every series and day, and the noisy unit counts drawn around it.

The mean is a product of known factors (see :class:`~ml.synthetic.config.SyntheticConfig`), so
its logarithm is linear in log price with slope ``elasticity``. Counts are negative binomial
(a Poisson whose rate is scaled by a mean-one gamma draw), which gives the many zeros of slow
movers and the over-dispersion of real point-of-sale data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.schema import DATE, STORE_ID, state_of_store
from ml.synthetic.calendar import snap_column
from ml.synthetic.prices import PricePlan

_WEEKLY_RAW = np.array([-0.5, -0.6, -0.6, -0.4, 0.1, 1.0, 0.9])  # Monday .. Sunday
# Log-scale day-of-week profile: mean zero, peak 1 (Saturday), scaled per series by its
# weekly_amplitude. Weekends sell most, mid-week least, as in M5.
WEEKLY_SHAPE = (_WEEKLY_RAW - _WEEKLY_RAW.mean()) / np.abs(_WEEKLY_RAW - _WEEKLY_RAW.mean()).max()


def _log_seasonal(series: pd.DataFrame, dates: pd.DatetimeIndex) -> np.ndarray:
    """Trend, weekly and yearly components on the log scale, (S, D)."""
    years = np.arange(len(dates)) / 365.25
    weekly = WEEKLY_SHAPE[dates.weekday.to_numpy()]
    angle = 2.0 * np.pi * (dates.dayofyear.to_numpy()[None, :] - _col(series, "yearly_peak_doy"))
    return (
        _col(series, "trend_per_year") * years[None, :]
        + _col(series, "weekly_amplitude") * weekly[None, :]
        + _col(series, "yearly_amplitude") * np.cos(angle / 365.25)
    )


def _col(series: pd.DataFrame, name: str) -> np.ndarray:
    """A per-series parameter as a column vector, ready to broadcast over days."""
    return series[name].to_numpy(dtype=float)[:, None]


def _snap_multiplier(series: pd.DataFrame, calendar: pd.DataFrame) -> np.ndarray:
    """SNAP uplift of each series on its state's SNAP days, (S, D)."""
    states = state_of_store(series[STORE_ID]).to_numpy()
    snap = np.stack([calendar[snap_column(state)].to_numpy() for state in states]).astype(bool)
    return np.where(snap, _col(series, "snap_uplift"), 1.0)


def daily(weekly: np.ndarray, n_days: int) -> np.ndarray:
    """Spread a (S, W) weekly matrix over days: day d takes week d // 7."""
    return weekly[:, np.arange(n_days) // 7]


def expected_demand(
    series: pd.DataFrame, calendar: pd.DataFrame, plan: PricePlan, event: np.ndarray
) -> np.ndarray:
    """Noise-free mean units per series and calendar day, (S, D)."""
    dates = pd.DatetimeIndex(calendar[DATE])
    price = daily(plan.price, len(dates))
    promo = daily(plan.promo, len(dates))
    price_effect = (price / _col(series, "base_price")) ** _col(series, "elasticity")
    promo_effect = np.where(promo, _col(series, "promo_extra_uplift"), 1.0)
    seasonal = np.exp(_log_seasonal(series, dates))
    return (
        _col(series, "base_level")
        * seasonal
        * event[None, :]
        * _snap_multiplier(series, calendar)
        * price_effect
        * promo_effect
    )


def sample_units(mean: np.ndarray, dispersion: float, rng: np.random.Generator) -> np.ndarray:
    """Negative binomial counts with the given means: variance = mean + mean**2 / dispersion."""
    rate = mean * rng.gamma(dispersion, 1.0 / dispersion, mean.shape)
    return rng.poisson(rate).astype(np.int64)
