"""Knobs of the synthetic retailer and the dataset it produces.

Every knob has a default that gives a realistic, M5-like data set (intermittent daily sales,
weekly prices with promotions, US events, SNAP days) small enough to generate in well under a
second. The ground truth that produced the data rides along in :class:`SyntheticDataset` so
later stages can check their estimates against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# Event types as in M5, with the true multiplicative uplift of demand on the event day.
DEFAULT_EVENT_UPLIFT: tuple[tuple[str, float], ...] = (
    ("National", 1.30),
    ("Religious", 1.15),
    ("Cultural", 1.25),
    ("Sporting", 1.20),
)


@dataclass(frozen=True)
class SyntheticConfig:
    """Size, seed and true effects of the synthetic retailer.

    Demand of series ``s`` (an item in a store) on day ``t`` has the multiplicative mean::

        base_level * exp(trend_per_year * years)
            * exp(weekly_amplitude * WEEKLY_SHAPE[weekday])
            * exp(yearly_amplitude * cos(2 pi (day_of_year - yearly_peak_doy) / 365.25))
            * event uplift (per event type) * SNAP uplift (FOODS, on the state's SNAP days)
            * (price / base_price) ** elasticity * promo_extra_uplift ** on_promotion

    and units are drawn from a negative binomial (gamma-Poisson) around it.
    """

    n_stores: int = 3
    n_items: int = 120
    start: str = "2023-01-01"
    n_days: int = 730
    seed: int = 42
    missing_day_rate: float = 0.01
    # The calendar and the price plan run this many days past the last sales day, as M5's
    # calendar and sell prices do: a retailer knows its events and planned prices ahead.
    future_days: int = 28
    # -- intermittency: a share of slow movers (mean < 1 unit/day) and faster movers ---------
    slow_mover_share: float = 0.55
    slow_level_range: tuple[float, float] = (0.05, 0.8)
    fast_level_range: tuple[float, float] = (1.0, 30.0)
    store_level_sigma: float = 0.20  # log-normal spread of store size
    nb_dispersion: float = 5.0  # gamma shape k: variance = mean + mean**2 / k
    # -- seasonality and trend ---------------------------------------------------------------
    weekly_amplitude_range: tuple[float, float] = (0.10, 0.35)
    yearly_amplitude_range: tuple[float, float] = (0.05, 0.30)
    trend_sigma: float = 0.10  # log growth per year ~ N(trend_mean, trend_sigma)
    trend_mean: float = 0.03
    # -- prices and promotions -------------------------------------------------------------
    elasticity_range: tuple[float, float] = (-2.5, -0.5)  # per item, shared by its stores
    base_price_range: tuple[float, float] = (1.0, 20.0)  # log-uniform
    store_price_sigma: float = 0.03  # small store-to-store price differences
    promo_block_weeks: int = 5  # at most one promotion in each block of weeks
    promo_probability: float = 0.90  # chance that a block holds a promotion
    promo_max_weeks: int = 2
    promo_discount_range: tuple[float, float] = (0.10, 0.45)
    promo_extra_uplift: float = 1.0  # display effect beyond the price; 1.0 keeps it log-linear
    regular_changes_per_year: float = 1.5  # permanent shelf-price moves
    regular_change_range: tuple[float, float] = (0.03, 0.12)  # size, either direction
    margin_range: tuple[float, float] = (0.30, 0.50)  # unit_cost = base price * (1 - margin)
    # -- events and SNAP ------------------------------------------------------------------------
    event_uplift: tuple[tuple[str, float], ...] = DEFAULT_EVENT_UPLIFT
    snap_uplift: float = 1.10  # FOODS demand on the store's state SNAP days

    def __post_init__(self) -> None:
        if self.n_stores < 1 or self.n_items < 1 or self.n_days < 1:
            raise ValueError("n_stores, n_items and n_days must all be >= 1")
        if not 0.0 <= self.missing_day_rate < 1.0:
            raise ValueError(f"missing_day_rate must lie in [0, 1), got {self.missing_day_rate}")
        if self.future_days < 0:
            raise ValueError(f"future_days must be >= 0, got {self.future_days}")
        if self.promo_max_weeks >= self.promo_block_weeks:
            raise ValueError("promo_max_weeks must be shorter than promo_block_weeks")

    @property
    def start_date(self) -> pd.Timestamp:
        return pd.Timestamp(self.start)

    @property
    def event_uplift_map(self) -> dict[str, float]:
        return dict(self.event_uplift)


@dataclass
class SyntheticDataset:
    """The canonical landing frames plus the ground truth that generated them.

    ``sales``: date, store_id, item_id, units (int >= 0), price (float > 0); explicit zero rows
    except the randomly missing ones. ``prices``: one row per series per week (the week starts on
    ``config.start`` + 7k); a price applies until the series' next row. ``calendar``: date, the
    four M5 event columns and ``snap_<STATE>`` (0/1). ``products``: item_id, dept_id, cat_id,
    unit_cost. ``truth``: one row per series with its true parameters. ``expected_units``: the
    noise-free mean demand per series and day (date, store_id, item_id, expected_units), future
    days included, for oracle comparisons.
    """

    sales: pd.DataFrame
    prices: pd.DataFrame
    calendar: pd.DataFrame
    products: pd.DataFrame
    truth: pd.DataFrame
    event_uplift: dict[str, float]
    config: SyntheticConfig
    expected_units: pd.DataFrame = field(default_factory=pd.DataFrame)
