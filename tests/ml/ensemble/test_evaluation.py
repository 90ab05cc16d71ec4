"""Leaderboard, merged backtests and the honest last-window evaluation on toy frames."""

from __future__ import annotations

import numpy as np
import pytest
from testkit.toy import toy_backtest, toy_history

from ml.ensemble.evaluation import (
    evaluate_ensemble,
    leaderboard,
    leaderboard_figure,
    merge_backtests,
)
from ml.ensemble.weights import ENSEMBLE, build_ensemble
from ml.schema import CUTOFF, DS, UNIQUE_ID, Y

H = 7


@pytest.fixture(scope="module")
def history():
    return toy_history()


def test_leaderboard_ranks_models_and_adds_the_champion(history):
    cv = toy_backtest(history, {"ARIMA": 3.0, "XGBoost": 0.5, "SeasonalNaive": 5.0})
    ensemble = build_ensemble(cv, history, ["ARIMA", "XGBoost"], scheme="nnls")
    scored = ensemble.apply(cv, levels=[80, 95])
    board = leaderboard(
        scored,
        history,
        ["ARIMA", "XGBoost", ENSEMBLE, "SeasonalNaive"],
        champion={"rmsse": 0.01, "wape": 0.5},
    )
    assert list(board.columns) == [
        "model",
        "rmsse",
        "mase",
        "wape",
        "bias",
        "coverage_80",
        "coverage_95",
    ]
    assert board["model"].iloc[0] == "champion"
    assert board["model"].iloc[-1] == "SeasonalNaive"
    assert board.set_index("model").loc[ENSEMBLE, "coverage_80"] > 0.5
    assert np.isnan(board.set_index("model").loc["ARIMA", "coverage_80"])
    figure = leaderboard_figure(board)
    assert len(figure.axes) == 2


def test_merge_backtests_joins_the_families_on_the_same_windows(history):
    cv = toy_backtest(history, {"ARIMA": 1.0, "XGBoost": 1.0})
    arima, xgb = cv.drop(columns=["XGBoost"]), cv.drop(columns=["ARIMA"]).iloc[5:]
    merged = merge_backtests([arima, xgb])
    assert len(merged) == len(cv) and merged["XGBoost"].isna().sum() == 5
    assert list(merged.columns[:4]) == [UNIQUE_ID, DS, CUTOFF, Y]


def test_evaluate_ensemble_scores_the_last_window_from_earlier_ones(history):
    cv = toy_backtest(history, {"ARIMA": 2.0, "Prophet": 2.0, "XGBoost": 1.0, "SeasonalNaive": 4})
    members = ["ARIMA", "Prophet", "XGBoost"]
    result = evaluate_ensemble(cv, history, members, champion={"rmsse": 9.0})
    assert result.scheme == result.comparison.best
    assert set(result.last_window[CUTOFF]) == {cv[CUTOFF].max()}
    models = list(result.leaderboard["model"])
    assert {*members, ENSEMBLE, "SeasonalNaive", "champion"} == set(models)
    assert models.index(ENSEMBLE) < models.index("ARIMA")
    assert result.metrics["rmsse"] < result.leaderboard.set_index("model").loc["ARIMA", "rmsse"]
    assert 0.6 < result.metrics["coverage_80"] <= 1.0
    assert result.ensemble.weights.mean()["XGBoost"] > 0.4


def test_evaluate_ensemble_with_one_window_uses_the_design_weights(history):
    cv = toy_backtest(history, {"ARIMA": 2.0, "XGBoost": 1.0}, n_windows=1)
    result = evaluate_ensemble(cv, history, ["ARIMA", "XGBoost"])
    assert result.scheme == "fixed"
    assert result.ensemble.weights.default.to_dict() == pytest.approx(
        {"ARIMA": 0.4, "XGBoost": 0.6}
    )
