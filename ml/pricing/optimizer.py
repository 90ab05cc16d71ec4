"""Price recommendations on a constant-elasticity demand curve, within business bounds.

Demand at price ``p`` is ``q(p) = q0 * (p / p0) ** e``: ``q0`` is the forecast daily demand at
the current price ``p0`` and ``e`` the item's elasticity. On that curve every strategy has a
closed-form optimum, clipped to the allowed window (checked against a brute-force grid in the
tests):

* ``profit``: ``(p - c) q(p)`` peaks at ``p* = c e / (1 + e)`` when ``e < -1`` and grows with
  the price otherwise (inelastic demand: the upper bound).
* ``revenue``: ``p q(p)`` is ``p ** (1 + e)``: the lower bound when ``e < -1``, the upper when
  ``e > -1``, no change at ``e = -1``.
* ``volume``: the price that sells the most: the lower bound (for ``e < 0``).
* ``clearance``: the highest price whose demand over ``clearance_days`` covers the stock,
  ``p0 * (stock / (q0 * days)) ** (1 / e)`` (the least markdown that clears); where no allowed
  price clears, the one that sells the most.

The allowed window is the intersection of the floor ``unit_cost * min_markup`` (default x1.1),
the cap ``current * max_price_ratio`` (x2), explicit ``min_price``/``max_price`` and the step
``current * (1 +- max_step)`` (+-10 % per change), as in the design documents. When the step
window, the floor and the cap do not meet, the step wins, then the floor: a price far below
cost moves up toward the floor as far as one step allows (even past a lower cap), one far
above the cap steps down; ``bounds_conflict`` says so.

Confidence is how robust the direction of the move is to the elasticity's uncertainty: the share
of 19 quantiles (5 % .. 95 %) of the elasticity's normal distribution under which the optimum
moves the same way (up, down, or within half a percent).

Everything is vectorised over numpy arrays: the asset prices every series in one call, and
:func:`optimize` prices one request in well under a millisecond.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

STRATEGIES = ("profit", "revenue", "volume", "clearance")
FLAT = 0.005  # moves smaller than this count as "no change" for the confidence
QUANTILES = norm.ppf(np.linspace(0.05, 0.95, 19))


@dataclass(frozen=True)
class PriceBounds:
    """Business bounds on a recommended price (defaults from the design documents)."""

    min_markup: float = 1.1  # floor = unit_cost * min_markup
    max_price_ratio: float = 2.0  # cap = current price * max_price_ratio
    max_step: float = 0.10  # at most +-10 % per change
    min_price: float | None = None  # explicit floor (the higher floor wins)
    max_price: float | None = None  # explicit cap (the lower cap wins)

    def __post_init__(self) -> None:
        if self.min_markup < 0 or self.max_price_ratio <= 0 or not 0 < self.max_step < 1:
            raise ValueError("need min_markup >= 0, max_price_ratio > 0 and 0 < max_step < 1")
        if (
            self.min_price is not None
            and self.max_price is not None
            and self.min_price > self.max_price
        ):
            raise ValueError(f"min_price {self.min_price} exceeds max_price {self.max_price}")


@dataclass(frozen=True)
class Window:
    """Allowed prices per series: ``lo..hi`` and which bounds bind there."""

    lo: np.ndarray
    hi: np.ndarray
    floor: np.ndarray
    cap: np.ndarray
    conflict: np.ndarray


def price_window(current: np.ndarray, unit_cost: np.ndarray, bounds: PriceBounds) -> Window:
    """The interval of allowed prices; where floor/cap and step do not meet, the step wins."""
    current, unit_cost = np.asarray(current, float), np.asarray(unit_cost, float)
    floor = np.maximum(unit_cost * bounds.min_markup, bounds.min_price or 0.0)
    cap = np.minimum(current * bounds.max_price_ratio, bounds.max_price or np.inf)
    step_lo, step_hi = current * (1 - bounds.max_step), current * (1 + bounds.max_step)
    lo, hi = np.maximum(floor, step_lo), np.minimum(cap, step_hi)
    conflict = lo > hi
    # The step is hard, then the floor, then the cap: a price below the floor moves up toward
    # it as far as one step allows (even past the cap); one above the cap steps down.
    lo = np.where(
        conflict,
        np.where(floor > np.minimum(cap, step_hi), np.minimum(floor, step_hi), step_lo),
        lo,
    )
    hi = np.where(conflict, lo, hi)
    return Window(lo, hi, floor, cap, conflict)


def optimal_price(
    strategy: str,
    current,
    unit_cost,
    elasticity,
    daily_demand,
    lo,
    hi,
    stock=None,
    clearance_days: float = 30.0,
) -> np.ndarray:
    """Closed-form optimum of ``strategy`` on the demand curve, clipped to ``[lo, hi]``.

    Broadcasts: ``elasticity`` may carry an extra trailing axis (the confidence uses that).
    """
    p0, c, e = np.asarray(current, float), np.asarray(unit_cost, float), np.asarray(elasticity)
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    if strategy == "profit":
        with np.errstate(divide="ignore", invalid="ignore"):
            interior = c * e / (1.0 + e)
        target = np.where(e < -1.0, interior, np.inf)
    elif strategy == "revenue":
        target = np.where(e < -1.0, -np.inf, np.where(e > -1.0, np.inf, p0))
    elif strategy == "volume":
        target = np.where(e < 0.0, -np.inf, np.inf)
    elif strategy == "clearance":
        target = _clearance_target(p0, e, daily_demand, stock, clearance_days)
    else:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    return np.clip(target, lo, hi)


def _clearance_target(p0, e, daily_demand, stock, days) -> np.ndarray:
    if stock is None:
        raise ValueError("the clearance strategy needs the stock to clear")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        supply = np.maximum(np.asarray(daily_demand, float), 0.0) * days
        need = np.where(np.asarray(stock, float) <= 0, 0.0, np.asarray(stock, float) / supply)
        clears_at = p0 * need ** (1.0 / e)  # demand over the days equals the stock here
    clears_at = np.where(need <= 0, np.inf, clears_at)  # nothing to clear: any price clears
    clears_at = np.where(np.isfinite(need), clears_at, -np.inf)  # no demand: sell the most
    return np.where(e < 0.0, clears_at, np.inf)  # e >= 0: demand grows with price


def _to_cents(price: np.ndarray, window: Window) -> np.ndarray:
    """Round to cents, staying inside the window (unrounded where no cent lies inside it)."""
    lo_cent = np.ceil(window.lo * 100 - 1e-6) / 100
    hi_cent = np.floor(window.hi * 100 + 1e-6) / 100
    rounded = np.clip(np.round(price, 2), lo_cent, hi_cent)
    return np.where(lo_cent <= hi_cent, rounded, price)


def demand(price, current, elasticity, daily_demand, days: float) -> np.ndarray:
    """Expected units over ``days`` at ``price`` on the constant-elasticity curve."""
    ratio = np.asarray(price, float) / np.asarray(current, float)
    return np.asarray(daily_demand, float) * days * ratio ** np.asarray(elasticity, float)


def confidence(
    strategy: str,
    price: np.ndarray,
    current,
    unit_cost,
    elasticity,
    se,
    daily_demand,
    lo,
    hi,
    stock=None,
    clearance_days: float = 30.0,
) -> np.ndarray:
    """Share of the elasticity's quantiles under which the optimum moves the same way."""
    e = np.asarray(elasticity, float)[..., None] + np.asarray(se, float)[..., None] * QUANTILES
    expand = [
        np.asarray(x, float)[..., None] if x is not None else None
        for x in (current, unit_cost, daily_demand, lo, hi, stock)
    ]
    p0, c, q0, lo_, hi_, stock_ = expand
    alternatives = optimal_price(strategy, p0, c, e, q0, lo_, hi_, stock_, clearance_days)
    direction = _direction(np.asarray(price, float), np.asarray(current, float))
    return (_direction(alternatives, p0) == direction[..., None]).mean(axis=-1)


def _direction(price: np.ndarray, current: np.ndarray) -> np.ndarray:
    change = price / current - 1.0
    return np.where(change > FLAT, 1, np.where(change < -FLAT, -1, 0))


def confidence_label(value: np.ndarray) -> np.ndarray:
    return np.where(value >= 0.8, "high", np.where(value >= 0.5, "medium", "low"))


RECOMMENDATION_COLUMNS = [
    "recommended_price",
    "change_pct",
    "expected_units",
    "expected_revenue",
    "expected_profit",
    "current_units",
    "current_profit",
    "confidence",
    "confidence_label",
    "price_floor",
    "price_cap",
    "bounds_conflict",
    "reasoning",
]


def recommend(
    frame: pd.DataFrame,
    strategy: str = "profit",
    bounds: PriceBounds = PriceBounds(),  # noqa: B008
    horizon_days: float = 28.0,
    clearance_days: float = 30.0,
) -> pd.DataFrame:
    """Recommendations for every row of ``frame``.

    ``frame`` columns: ``current_price``, ``unit_cost``, ``elasticity``, ``elasticity_se``,
    ``daily_demand`` (expected units per day at the current price) and, for ``clearance``,
    ``stock``. Returns ``frame`` with :data:`RECOMMENDATION_COLUMNS` added; expected units,
    revenue and profit cover ``horizon_days`` (``clearance_days`` for ``clearance``).
    """
    columns = ("current_price", "unit_cost", "elasticity", "elasticity_se", "daily_demand")
    inputs = {name: frame[name].to_numpy(float) for name in columns}
    inputs["stock"] = frame["stock"].to_numpy(float) if "stock" in frame else None
    result = solve(inputs, strategy, bounds, horizon_days, clearance_days)
    return frame.assign(**{name: result[name] for name in RECOMMENDATION_COLUMNS})


def solve(
    inputs: dict, strategy: str, bounds: PriceBounds, horizon_days: float, clearance_days: float
) -> dict:
    """:data:`RECOMMENDATION_COLUMNS` as arrays, from input arrays (see :func:`recommend`)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    p0, c, e = inputs["current_price"], inputs["unit_cost"], inputs["elasticity"]
    se, q0, stock = inputs["elasticity_se"], inputs["daily_demand"], inputs.get("stock")
    if np.any(~(p0 > 0)) or np.any(~(c >= 0)) or np.any(~np.isfinite(e)):
        raise ValueError("current_price must be > 0, unit_cost >= 0 and elasticity finite")
    window = price_window(p0, c, bounds)
    price = optimal_price(strategy, p0, c, e, q0, window.lo, window.hi, stock, clearance_days)
    price = _to_cents(price, window)
    days = clearance_days if strategy == "clearance" else horizon_days
    units, units_now = demand(price, p0, e, q0, days), q0 * days
    conf = confidence(
        strategy,
        price,
        p0,
        c,
        e,
        np.nan_to_num(se),
        q0,
        window.lo,
        window.hi,
        stock,
        clearance_days,
    )
    out = {
        "recommended_price": price,
        "change_pct": np.round(100.0 * (price / p0 - 1.0), 2),
        "expected_units": units,
        "expected_revenue": price * units,
        "expected_profit": (price - c) * units,
        "current_units": units_now,
        "current_profit": (p0 - c) * units_now,
        "confidence": conf,
        "confidence_label": confidence_label(conf),
        "price_floor": window.floor,
        "price_cap": window.cap,
        "bounds_conflict": window.conflict,
    }
    rows = [dict(zip(out, values, strict=True)) for values in zip(*out.values(), strict=True)]
    for row, p, cost, elasticity, st in zip(
        rows, p0, c, e, stock if stock is not None else [np.nan] * len(p0), strict=True
    ):
        row.update(current_price=p, unit_cost=cost, elasticity=elasticity, stock=st)
    out["reasoning"] = np.array([_reasoning(strategy, row, bounds, days) for row in rows])
    return out


def optimize(
    current_price: float,
    unit_cost: float,
    elasticity: float,
    daily_demand: float,
    strategy: str = "profit",
    bounds: PriceBounds = PriceBounds(),  # noqa: B008
    stock: float | None = None,
    elasticity_se: float = 0.0,
    horizon_days: float = 28.0,
    clearance_days: float = 30.0,
) -> dict:
    """One recommendation (what ``POST /v1/pricing/optimize`` answers): a dict with the inputs
    and :data:`RECOMMENDATION_COLUMNS`. Pure numpy, well under a millisecond."""
    inputs = {
        "current_price": current_price,
        "unit_cost": unit_cost,
        "elasticity": elasticity,
        "elasticity_se": elasticity_se,
        "daily_demand": daily_demand,
    }
    inputs = {k: np.array([float(v)]) for k, v in inputs.items()}
    inputs["stock"] = None if stock is None else np.array([float(stock)])
    result = {
        k: v[0] for k, v in solve(inputs, strategy, bounds, horizon_days, clearance_days).items()
    }
    result.update({k: float(v[0]) for k, v in inputs.items() if v is not None})
    result.update(strategy=strategy, bounds=asdict(bounds))
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.items()}


def _reasoning(strategy: str, row: dict, bounds: PriceBounds, days: float) -> str:
    """One line: why this price."""
    e, c = row["elasticity"], row["unit_cost"]
    if strategy == "profit":
        why = (
            f"elasticity {e:.2f} puts the profit-maximising price at "
            f"{c * e / (1 + e):.2f} (cost {c:.2f} x e/(1+e))"
            if e < -1
            else f"demand is inelastic (elasticity {e:.2f} >= -1), so a higher price earns more"
        )
    elif strategy == "revenue":
        why = _revenue_why(e)
    elif strategy == "volume":
        why = f"the lowest allowed price sells the most (elasticity {e:.2f})"
    else:
        stock = row.get("stock", np.nan)
        clears = row["expected_units"] >= stock - 1e-9
        why = (
            f"{stock:.0f} units clear in {days:.0f} days at this price"
            if clears
            else f"{stock:.0f} units cannot clear in {days:.0f} days within the bounds "
            f"(about {row['expected_units']:.0f} sell)"
        )
    return f"{strategy}: {why}; {_binding(row, bounds)}."


def _revenue_why(e: float) -> str:
    if e < -1:
        return f"elastic demand (elasticity {e:.2f} < -1): a lower price earns more revenue"
    if e > -1:
        return f"elasticity {e:.2f} > -1: a higher price earns more revenue"
    return "unit elasticity (-1.00): revenue is the same at any price"


def _binding(row: dict, bounds: PriceBounds) -> str:
    p0, p = row["current_price"], row["recommended_price"]
    step = f"{100 * bounds.max_step:.0f} %"
    if row["bounds_conflict"]:
        if row["price_floor"] > row["price_cap"]:
            return (
                f"the price floor {row['price_floor']:.2f} lies above the cap "
                f"{row['price_cap']:.2f}; the floor wins within one step ({step})"
            )
        side = "below the price floor" if row["price_floor"] > p0 else "above the price cap"
        return f"the current price is {side}, so it moves one full step ({step})"
    near = lambda a, b: abs(a - b) < 0.006  # noqa: E731 (within a cent after rounding)
    if near(p, row["price_floor"]):
        return f"held at the price floor {row['price_floor']:.2f}"
    if near(p, row["price_cap"]):
        return f"held at the price cap {row['price_cap']:.2f}"
    if near(p, p0 * (1 + bounds.max_step)) or near(p, p0 * (1 - bounds.max_step)):
        return f"limited to one step of {step}"
    if near(p, p0):
        return "no change"
    return "inside the bounds"
