"""Selection rules of the design documents, and the forecast they assemble."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from testkit.selection import (
    ENSEMBLE,
    PROPHET,
    SARIMA,
    XGBOOST,
    seasonal_acf,
    seasonal_strength,
    seasonality_diagnostics,
    select_family,
    selected_forecast,
)

from ml.schema import DS, UNIQUE_ID, Y


def series(uid: str, values: np.ndarray) -> pd.DataFrame:
    days = pd.date_range("2023-01-01", periods=len(values))
    return pd.DataFrame({UNIQUE_ID: uid, DS: days, Y: values.astype(float)})


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    weekly = np.tile([1.0, 1.0, 2.0, 3.0, 5.0, 9.0, 6.0], 30) * 4
    return pd.concat(
        [
            series("weekly", weekly + rng.normal(0, 0.5, weekly.size)),
            series("noise", rng.poisson(5, 210)),
            # listed late: 150 zeros, then 60 days of sales -> short history
            series("new", np.concatenate([np.zeros(150), rng.poisson(5, 60) + 1])),
        ],
        ignore_index=True,
    )


def test_diagnostics_separate_weekly_from_noise(panel):
    diagnostics = seasonality_diagnostics(panel)
    assert diagnostics.loc["weekly", "acf_season"] > 0.9
    assert diagnostics.loc["weekly", "seasonal_strength"] > 0.9
    assert abs(diagnostics.loc["noise", "acf_season"]) < 0.3
    assert diagnostics.loc["noise", "seasonal_strength"] < 0.3
    assert diagnostics["history_days"].to_dict() == {"new": 60, "noise": 210, "weekly": 210}


def test_rules_in_design_order(panel):
    assert select_family(panel).to_dict() == {"new": PROPHET, "noise": ENSEMBLE, "weekly": SARIMA}
    assert select_family(panel, n_features=30)["noise"] == XGBOOST
    per_series = pd.Series({"noise": 5})
    assert select_family(panel, n_features=per_series)["noise"] == ENSEMBLE


def test_acf_and_strength_by_hand():
    alternating = np.array([[1.0, -1.0, 1.0, -1.0, 1.0, -1.0]])
    # centred already; lag 2: sum of x_t * x_{t-2} = 4 over sum of squares 6
    assert seasonal_acf(alternating, 2)[0] == pytest.approx(4 / 6)
    assert seasonal_acf(np.ones((1, 10)), 2)[0] == 0.0
    pure = np.tile([0.0, 3.0, 0.0], 10)[None, :]
    assert seasonal_strength(pure, 3)[0] == pytest.approx(1.0)


def test_selected_forecast_takes_the_chosen_family_or_the_weighted_ensemble():
    frame = pd.DataFrame(
        {
            UNIQUE_ID: ["a", "b", "c"],
            DS: pd.to_datetime(["2024-01-01"] * 3),
            "ARIMA": [1.0, 1.0, 1.0],
            "Prophet": [2.0, 2.0, 2.0],
            "XGBoost": [4.0, 4.0, 4.0],
        }
    )
    choice = pd.Series({"a": SARIMA, "b": PROPHET, "c": ENSEMBLE})
    columns = {"arima": "ARIMA", "prophet": "Prophet", "xgboost": "XGBoost"}
    out = selected_forecast(frame, choice, columns)
    ensemble = (0.20 * 1 + 0.25 * 2 + 0.30 * 4) / 0.75
    assert out["Selected"].tolist() == pytest.approx([1.0, 2.0, ensemble])


def test_the_holdout_split_keeps_the_last_h_days_out():
    import pandas as pd
    from testkit.m5 import train_test_split

    days = pd.date_range("2024-01-01", periods=20)
    panel = pd.DataFrame({"unique_id": "a", "ds": days, "y": 1.0})
    train, test = train_test_split(panel, h=5)
    assert train["ds"].max() == pd.Timestamp("2024-01-15")
    assert test["ds"].min() == pd.Timestamp("2024-01-16") and len(test) == 5
