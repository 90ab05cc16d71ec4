"""The demand model's own price response: an alternative elasticity estimate.

The global XGBoost forecaster learns from ``sell_price`` (and its ratio to the series' mean
price), so its forecasts answer "what if the price moved?". Forecasting the next ``h`` days
with every price 5 % up and 5 % down gives the arc elasticity
``ln(Q_up / Q_down) / ln(1.05 / 0.95)`` per series; per item the store totals are summed
first. Trees learn step functions, so a flat response (0) is common where the history holds
few prices; comparing with the regression says how far the two views of the data agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feature_store.future import future_exogenous
from ml.schema import ITEM_ID, SELL_PRICE, UNIQUE_ID, split_series_id


def arc_elasticity(q_up: np.ndarray, q_down: np.ndarray, step: float) -> np.ndarray:
    """Arc elasticity between prices ``1 + step`` and ``1 - step`` times the current one."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.log(q_up / q_down) / np.log((1.0 + step) / (1.0 - step))
    return np.where((q_up > 0) & (q_down > 0), value, np.nan)


def model_price_response(forecaster, h: int = 28, step: float = 0.05) -> pd.DataFrame:
    """Per series: demand over ``h`` days at prices +-``step`` and the arc elasticity.

    ``forecaster`` is a fitted forecaster that keeps ``history_`` and accepts future prices in
    ``X_df`` (the XGBoost family, or any member for which ``ml.ensemble.forecaster.price_sensitive``
    holds).
    """
    if not 0.0 < step < 1.0:
        raise ValueError(f"step must lie in (0, 1), got {step}")
    base = future_exogenous(forecaster.history_, h, None)
    totals = {}
    for name, factor in (("q_up", 1.0 + step), ("q_down", 1.0 - step)):
        X_df = base.assign(**{SELL_PRICE: base[SELL_PRICE] * factor})
        forecast = forecaster.predict(h, X_df=X_df)
        totals[name] = forecast.groupby(UNIQUE_ID, sort=True)[forecaster.alias].sum()
    out = pd.DataFrame(totals).reset_index()
    out[ITEM_ID] = split_series_id(out[UNIQUE_ID])[ITEM_ID].to_numpy()
    out["model_elasticity"] = arc_elasticity(out["q_up"].to_numpy(), out["q_down"].to_numpy(), step)
    return out


def item_price_response(series_response: pd.DataFrame, step: float = 0.05) -> pd.DataFrame:
    """Per item: the arc elasticity of the demand summed over the item's stores."""
    totals = series_response.groupby(ITEM_ID, sort=True)[["q_up", "q_down"]].sum()
    totals["model_elasticity"] = arc_elasticity(
        totals["q_up"].to_numpy(), totals["q_down"].to_numpy(), step
    )
    return totals.reset_index()


def compare(elasticities: pd.DataFrame, response: pd.DataFrame) -> dict:
    """Agreement of the regression (``elasticity``) and the model (``model_elasticity``) per
    item: Pearson and Spearman correlation, median difference (model - regression), counts.
    Only items the regression estimated from their own prices (``item`` or ``shrunk``) count."""
    both = elasticities.merge(response[[ITEM_ID, "model_elasticity"]], on=ITEM_ID)
    own = both["method"].isin(["item", "shrunk"]) & both["elasticity"].notna()
    both = both[own & both["model_elasticity"].notna()]
    if len(both) < 3:
        return {"items_compared": int(len(both))}
    reg, mod = both["elasticity"], both["model_elasticity"]
    return {
        "items_compared": int(len(both)),
        "pearson": float(reg.corr(mod)),
        "spearman": float(reg.corr(mod, method="spearman")),
        "median_difference": float((mod - reg).median()),
        "model_median": float(mod.median()),
        "model_share_negative": float((mod < 0).mean()),
        "model_share_flat": float((mod.abs() < 1e-6).mean()),
    }
