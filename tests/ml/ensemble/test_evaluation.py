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
    cv = toy_backtest(history, {"ARIMA": 1.5, "Prophet": 1.5, "XGBoost": 1.0, "SeasonalNaive": 4})
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
    cv = toy_backtest(history, {"ARIMA": 1.0, "XGBoost": 1.0}, n_windows=1)
    result = evaluate_ensemble(cv, history, ["ARIMA", "XGBoost"])
    assert result.scheme == "fixed"
    assert result.ensemble.weights.default.to_dict() == pytest.approx(
        {"ARIMA": 0.4, "XGBoost": 0.6}
    )


def test_an_ensemble_worse_than_its_best_member_becomes_that_member_and_says_so(history):
    cv = toy_backtest(history, {"ARIMA": 1.0, "Prophet": 1.0, "XGBoost": 0.5})
    last = cv[CUTOFF] == cv[CUTOFF].max()
    cv.loc[last, "Prophet"] += 25.0  # trusted on the earlier windows, useless on the last
    members = ["ARIMA", "Prophet", "XGBoost"]
    result = evaluate_ensemble(cv, history, members, scheme="equal")
    board = result.leaderboard.set_index("model")
    assert result.fallback == "XGBoost" and result.scheme == "best_member"
    assert result.ensemble.weights.scheme == "best_member"
    assert result.best_member == "XGBoost" and result.members == tuple(members)
    assert board.loc[ENSEMBLE, "rmsse"] == board.loc["XGBoost", "rmsse"]
    np.testing.assert_array_equal(result.last_window[ENSEMBLE], result.last_window["XGBoost"])
    assert result.ensemble.weights.default.to_dict() == {
        "ARIMA": 0.0,
        "Prophet": 0.0,
        "XGBoost": 1.0,
    }
    assert result.ensemble.calibration is not None  # intervals, as for any ensemble
    assert 0.5 < board.loc[ENSEMBLE, "coverage_80"] <= 1.0
    assert result.fallback_reason.startswith("the equal ensemble scored RMSSE ")
    assert result.fallback_reason.endswith("the ensemble is XGBoost")
    assert f"worse than XGBoost alone ({board.loc['XGBoost', 'rmsse']:.4f})" in (
        result.fallback_reason
    )


def test_an_ensemble_that_beats_its_members_keeps_its_weights(history):
    cv = toy_backtest(history, {"ARIMA": 1.0, "Prophet": 1.0, "XGBoost": 1.0})
    result = evaluate_ensemble(cv, history, ["ARIMA", "Prophet", "XGBoost"], scheme="equal")
    board = result.leaderboard.set_index("model")
    assert result.fallback is None and result.fallback_reason == ""
    assert result.scheme == "equal"
    assert board.loc[ENSEMBLE, "rmsse"] < board.loc[result.best_member, "rmsse"]


def test_models_left_out_are_scored_but_get_no_weight(history):
    cv = toy_backtest(history, {"ARIMA": 1.0, "XGBoost": 1.0, "LSTM": 9.0, "SeasonalNaive": 2})
    result = evaluate_ensemble(cv, history, ["ARIMA", "XGBoost"], also_score=["LSTM"])
    assert "LSTM" in set(result.leaderboard["model"])
    assert result.ensemble.weights.members == ["ARIMA", "XGBoost"]
    assert result.best_member in ("ARIMA", "XGBoost")
