"""Weekly shelf prices: a regular price with occasional permanent moves, and promotions.

Weeks start on the configured start date and every 7 days after it. The weeks are cut into
blocks of ``promo_block_weeks``; each block holds at most one promotion of 1 to
``promo_max_weeks`` weeks that never starts in the block's first week, so promotions never
touch and every promotion adds two price changes (down, then back up). Discount depth varies by
promotion, which is what makes each item's elasticity identifiable from its own history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.synthetic.config import SyntheticConfig


@dataclass(frozen=True)
class PricePlan:
    """Prices per series (rows, in series order) and week (columns)."""

    week_starts: pd.DatetimeIndex
    regular: np.ndarray  # float (S, W), shelf price without promotion
    price: np.ndarray  # float (S, W), price actually charged
    promo: np.ndarray  # bool (S, W), week on promotion


def _regular_prices(
    config: SyntheticConfig, base_price: np.ndarray, n_weeks: int, rng: np.random.Generator
) -> np.ndarray:
    """Base price times a random walk of rare permanent moves, rounded to cents."""
    shape = (len(base_price), n_weeks)
    moves = rng.random(shape) < config.regular_changes_per_year / 52.0
    moves[:, 0] = False
    size = rng.uniform(*config.regular_change_range, shape) * rng.choice([-1.0, 1.0], shape)
    log_path = np.cumsum(np.where(moves, np.log1p(size), 0.0), axis=1)
    return np.round(base_price[:, None] * np.exp(log_path), 2)


def _promotion_weeks(
    config: SyntheticConfig, n_series: int, n_weeks: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Promotion mask and discount per series and week (discount 0 off promotion)."""
    block = config.promo_block_weeks
    n_blocks = -(-n_weeks // block) + 1
    shape = (n_series, n_blocks)
    has = rng.random(shape) < config.promo_probability
    weeks = rng.integers(1, config.promo_max_weeks + 1, shape)
    offset = rng.integers(1, block - weeks + 1)  # never the block's first week
    discount = rng.uniform(*config.promo_discount_range, shape)
    # A random phase per series, so no calendar week is promotion-free for every series.
    week = np.arange(n_weeks)[None, :] + rng.integers(0, block, (n_series, 1))
    blocks, in_block = week // block, week % block
    rows = np.arange(n_series)[:, None]
    start, length = offset[rows, blocks], weeks[rows, blocks]
    promo = has[rows, blocks] & (in_block >= start) & (in_block < start + length)
    return promo, np.where(promo, discount[rows, blocks], 0.0)


def build_price_plan(
    config: SyntheticConfig, base_price: np.ndarray, rng: np.random.Generator
) -> PricePlan:
    """Weekly prices for every series over the sales history plus the future days."""
    n_weeks = -(-(config.n_days + config.future_days) // 7)
    week_starts = pd.date_range(config.start_date, periods=n_weeks, freq="7D")
    regular = _regular_prices(config, base_price, n_weeks, rng)
    promo, discount = _promotion_weeks(config, len(base_price), n_weeks, rng)
    price = np.maximum(np.round(regular * (1.0 - discount), 2), 0.01)
    return PricePlan(week_starts=week_starts, regular=regular, price=price, promo=promo)


def price_truth(
    plan: PricePlan, elasticity: np.ndarray, n_days: int, promo_extra_uplift: float
) -> pd.DataFrame:
    """Per-series price facts over the sales history: changes, promotions and their true effect.

    ``promo_uplift`` is the mean true demand multiplier of the series' promotion weeks against
    its regular price ((promo / regular) ** elasticity * promo_extra_uplift); 1.0 without any.
    """
    history = slice(0, -(-n_days // 7))
    price, promo = plan.price[:, history], plan.promo[:, history]
    ratio = price / plan.regular[:, history]
    n_promo = promo.sum(axis=1)
    per_promo = np.maximum(n_promo, 1)
    effect = ratio ** elasticity[:, None] * promo_extra_uplift
    return pd.DataFrame(
        {
            "n_price_changes": (np.diff(price, axis=1) != 0).sum(axis=1),
            "n_promo_weeks": n_promo,
            "mean_promo_discount": np.where(promo, 1.0 - ratio, 0.0).sum(axis=1) / per_promo,
            "promo_uplift": np.where(
                n_promo > 0, np.where(promo, effect, 0.0).sum(axis=1) / per_promo, 1.0
            ),
            "min_price": price.min(axis=1),
            "max_price": price.max(axis=1),
        }
    )
