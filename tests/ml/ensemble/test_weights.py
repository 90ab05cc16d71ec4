"""Ensemble weights, honest scheme comparison, intervals and the leaderboard on toy frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from testkit.toy import toy_backtest, toy_history

from ml.ensemble.intervals import ResidualCalibration
from ml.ensemble.weights import (
    DESIGN_WEIGHTS,
    ENSEMBLE,
    SCHEMES,
    EnsembleWeights,
    build_ensemble,
    combine,
    compare_schemes,
    fixed_weights,
    intermittency_class,
    learn_weights,
    nnls_solution,
)
from ml.schema import CUTOFF, DEPT_ID, DS, UNIQUE_ID, Y, forecast_column

MEMBERS = ["ARIMA", "Prophet", "XGBoost", "LSTM"]
H = 7


@pytest.fixture(scope="module")
def history():
    return toy_history()


def test_fixed_weights_are_the_design_weights_and_renormalise():
    weights = fixed_weights(MEMBERS)
    assert weights.to_dict() == pytest.approx(DESIGN_WEIGHTS)
    without_lstm = fixed_weights(["ARIMA", "Prophet", "XGBoost"])
    assert without_lstm.sum() == pytest.approx(1.0)
    assert without_lstm["XGBoost"] == pytest.approx(0.30 / 0.75)
    assert fixed_weights(["SeasonalNaive", "MovingAverage"]).tolist() == [0.5, 0.5]


@pytest.mark.parametrize("scheme", [s for s in SCHEMES if s not in ("fixed", "equal")])
def test_a_perfect_member_gets_almost_all_the_weight(history, scheme):
    cv = toy_backtest(history, {"ARIMA": 4.0, "Prophet": 0.01, "XGBoost": 3.0, "LSTM": 5.0})
    weights = learn_weights(cv, history, MEMBERS, scheme)
    assert weights.mean()["Prophet"] > 0.95
    assert weights.matrix(np.array(["s0", "s5"])).sum(axis=1) == pytest.approx([1.0, 1.0])


def test_nnls_weights_match_a_constrained_least_squares_solver():
    from scipy.optimize import minimize

    rng = np.random.default_rng(3)
    common = rng.normal(size=(400, 1))
    noise = rng.normal(0, [0.5, 0.3, 2.0], (400, 3))
    errors = np.hstack([common, -common, 3 * common]) + noise
    weights = nnls_solution(errors)
    assert weights.min() >= 0 and weights.sum() == pytest.approx(1.0)
    reference = minimize(
        lambda w: ((errors @ w) ** 2).sum(),
        np.full(3, 1 / 3),
        method="SLSQP",
        bounds=[(0, 1)] * 3,
        constraints={"type": "eq", "fun": lambda w: w.sum() - 1},
    ).x
    assert weights == pytest.approx(reference, abs=1e-3)
    # opposite-signed errors cancel: the two first members share the weight
    assert weights[:2].min() > 0.3


def test_missing_member_is_dropped_and_weights_renormalised(history):
    cv = toy_backtest(history, {"ARIMA": 1.0, "Prophet": 1.0, "XGBoost": 1.0})
    cv["LSTM"] = np.nan  # the LSTM family failed
    weights = learn_weights(cv, history, MEMBERS, "inverse_error")
    assert weights.members == ["ARIMA", "Prophet", "XGBoost"]
    fixed = learn_weights(cv.drop(columns=["LSTM"]), history, MEMBERS, "fixed")
    assert fixed.default.sum() == pytest.approx(1.0) and "LSTM" not in fixed.members
    two = fixed_weights(["ARIMA", "LSTM"])
    assert two.to_dict() == pytest.approx({"ARIMA": 0.2 / 0.45, "LSTM": 0.25 / 0.45})


def test_no_backtest_errors_falls_back_to_the_design_weights(history):
    empty = toy_backtest(history, {m: 1.0 for m in MEMBERS}).iloc[:0]
    empty = pd.concat([empty, pd.DataFrame({m: [np.nan] for m in MEMBERS})])
    weights = learn_weights(empty.assign(**{m: 1.0 for m in MEMBERS}), history, MEMBERS, "nnls")
    assert weights.scheme == "fixed"
    assert weights.default.to_dict() == pytest.approx(DESIGN_WEIGHTS)


def test_combine_renormalises_over_the_members_a_row_has():
    frame = pd.DataFrame({UNIQUE_ID: ["a", "a"], "ARIMA": [10.0, 10.0], "XGBoost": [20.0, np.nan]})
    weights = EnsembleWeights("x", pd.Series({"ARIMA": 0.25, "XGBoost": 0.75}))
    assert combine(frame, weights) == pytest.approx([17.5, 10.0])


def test_series_weights_follow_each_series_best_member(history):
    cv = toy_backtest(history, {"ARIMA": 0.01, "XGBoost": 4.0})
    good_xgb = cv[UNIQUE_ID].isin(["s0", "s1", "s2"])
    cv.loc[good_xgb, "XGBoost"], cv.loc[good_xgb, "ARIMA"] = cv[Y], cv[Y] + 4.0
    weights = learn_weights(cv, history, ["ARIMA", "XGBoost"], "nnls_series", shrink_series=1.0)
    assert weights.per_series.loc["s0", "XGBoost"] > 0.9
    assert weights.per_series.loc["s5", "ARIMA"] > 0.9
    shrunk = learn_weights(cv, history, ["ARIMA", "XGBoost"], "nnls_series", shrink_series=1e6)
    assert shrunk.per_series.loc["s0", "XGBoost"] == pytest.approx(
        shrunk.per_series.loc["s5", "XGBoost"], abs=1e-3
    )


def test_segment_weights_by_department(history):
    cv = toy_backtest(history, {"ARIMA": 0.01, "XGBoost": 4.0})
    dept_a = cv[UNIQUE_ID].map(history.groupby(UNIQUE_ID)[DEPT_ID].first()) == "A"
    cv.loc[dept_a, "XGBoost"], cv.loc[dept_a, "ARIMA"] = cv[Y], cv[Y] + 4.0
    weights = learn_weights(
        cv,
        history,
        ["ARIMA", "XGBoost"],
        "inverse_error_segment",
        segment_by=DEPT_ID,
        shrink_segment=1.0,
    )
    assert weights.per_series.loc["s1", "XGBoost"] > 0.9  # dept A
    assert weights.per_series.loc["s0", "ARIMA"] > 0.9  # dept B


def test_intermittency_classes():
    dates = pd.date_range("2024-01-01", periods=60, freq="D")
    smooth = np.full(60, 10.0)
    intermittent = np.where(np.arange(60) % 5 == 0, 3.0, 0.0)
    frame = pd.DataFrame(
        {
            UNIQUE_ID: np.repeat(["smooth", "sparse"], 60),
            DS: np.tile(dates, 2),
            Y: np.concatenate([smooth, intermittent]),
        }
    )
    classes = intermittency_class(frame)
    assert classes.to_dict() == {"smooth": "smooth", "sparse": "intermittent"}


def test_compare_schemes_learns_only_from_the_past(history):
    cv = toy_backtest(history, {"ARIMA": 3.0, "Prophet": 1.0, "XGBoost": 2.0, "LSTM": 3.0})
    last = cv[CUTOFF].max()
    cv.loc[cv[CUTOFF] == last, "Prophet"] += 1e6  # any look at the scored window shows here
    result = compare_schemes(cv, history, MEMBERS, schemes=["nnls", "fixed"])
    assert result.n_learn_windows == 2
    table = result.table.set_index("scheme")
    assert {"nnls", "fixed", "ARIMA", "Prophet"} <= set(table.index)
    # the learned scheme trusted Prophet on the earlier windows and is hurt on the last one
    assert table.loc["nnls", "rmsse"] > table.loc["XGBoost", "rmsse"]


def test_compare_schemes_picks_the_learned_scheme_when_one_member_is_best(history):
    cv = toy_backtest(history, {"ARIMA": 4.0, "Prophet": 4.0, "XGBoost": 0.2, "LSTM": 4.0})
    result = compare_schemes(cv, history, MEMBERS, schemes=["fixed", "equal", "nnls"])
    assert result.best == "nnls"


def test_ensemble_intervals_are_ordered_and_cover_on_toy_data():
    history = toy_history(n_series=40, days=200, seed=5)
    cv = toy_backtest(history, {"ARIMA": 2.0, "XGBoost": 2.0}, n_windows=6, seed=2)
    learn = cv[cv[CUTOFF] < cv[CUTOFF].max()]
    ensemble = build_ensemble(learn, history, ["ARIMA", "XGBoost"], scheme="equal")
    scored = ensemble.apply(cv[cv[CUTOFF] == cv[CUTOFF].max()], levels=[80, 95])
    lo80, hi80 = (
        scored[forecast_column(ENSEMBLE, "lo", 80)],
        scored[forecast_column(ENSEMBLE, "hi", 80)],
    )
    lo95, hi95 = (
        scored[forecast_column(ENSEMBLE, "lo", 95)],
        scored[forecast_column(ENSEMBLE, "hi", 95)],
    )
    assert (lo95 <= lo80).all() and (lo80 <= scored[ENSEMBLE]).all()
    assert (scored[ENSEMBLE] <= hi80).all() and (hi80 <= hi95).all() and (lo95 >= 0).all()
    covered80 = scored[Y].between(lo80, hi80).mean()
    covered95 = scored[Y].between(lo95, hi95).mean()
    assert abs(covered80 - 0.80) < 0.07 and abs(covered95 - 0.95) < 0.05


def test_calibration_widens_with_the_level_and_reuses_the_last_step():
    calibration = ResidualCalibration([np.linspace(-1, 1, 1001), np.linspace(-2, 2, 1001)])
    lo80, hi80 = calibration.step_quantiles(80)
    lo95, hi95 = calibration.step_quantiles(95)
    assert (lo95 < lo80).all() and (hi95 > hi80).all() and hi80[1] > hi80[0]
    lower, upper = calibration.bounds(
        np.array([5.0, 5.0]), np.array([2, 9]), np.array([1.0, 1.0]), 80
    )
    assert lower[0] == lower[1] and upper[0] == pytest.approx(5 + hi80[1])


def test_ensemble_weights_compare_errors_in_each_series_own_scale():
    """A is better on the big series by little, B far better on the small one: in each series'
    RMSSE scale B wins; in raw units the big series alone would pick A."""
    from ml.ensemble.weights import learn_weights

    days = pd.date_range("2024-01-01", periods=40)
    big = 1000 + 10 * (np.arange(40) % 2)  # one-step moves of 10: scale 10
    small = 1 + 0.1 * (np.arange(40) % 2)  # moves of 0.1: scale 0.1
    history = pd.concat(
        [
            pd.DataFrame({UNIQUE_ID: "big", DS: days, Y: big.astype(float)}),
            pd.DataFrame({UNIQUE_ID: "small", DS: days, Y: small}),
        ]
    )
    cutoff = days[-11]
    cv = history[history[DS] > cutoff].assign(**{CUTOFF: cutoff})
    is_big = (cv[UNIQUE_ID] == "big").to_numpy()
    cv["A"] = cv[Y] + np.where(is_big, 10.0, 0.5)  # 1 scale unit on big, 5 on small
    cv["B"] = cv[Y] + np.where(is_big, 20.0, 0.01)  # 2 on big, 0.1 on small
    weights = learn_weights(cv, history[history[DS] <= cutoff], ["A", "B"], "inverse_error")
    assert weights.default["B"] > weights.default["A"]
