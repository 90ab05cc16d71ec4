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


def test_a_member_without_a_design_weight_gets_none_of_the_fixed_weights():
    assert fixed_weights(["ARIMA", "SeasonalNaive"]).to_dict() == {
        "ARIMA": 1.0,
        "SeasonalNaive": 0.0,
    }


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
    # the units of the errors do not matter
    assert nnls_solution(errors * 1e4) == pytest.approx(weights, abs=1e-6)
    assert nnls_solution(np.zeros((5, 2))).sum() == pytest.approx(1.0)  # nothing to tell apart


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


# -- segments ----------------------------------------------------------------------------------
def panel_of(series: dict[str, list[float]]) -> pd.DataFrame:
    frames = [
        pd.DataFrame(
            {UNIQUE_ID: uid, DS: pd.date_range("2024-01-01", periods=len(y)), Y: np.asarray(y)}
        )
        for uid, y in series.items()
    ]
    return pd.concat(frames, ignore_index=True)


def test_the_four_syntetos_boylan_classes_and_their_edges():
    rng = np.random.default_rng(0)
    series = {
        "smooth": [10.0] * 60,
        "erratic": list(rng.choice([1.0, 30.0], 60)),  # every day, sizes vary a lot
        "intermittent": [3.0 if d % 5 == 0 else 0.0 for d in range(60)],
        "lumpy": [rng.choice([1.0, 40.0]) if d % 5 == 0 else 0.0 for d in range(60)],
        "adi_at_edge": [5.0] * 25 + [0.0] * 8,  # 33 days / 25 sales = 1.32: not frequent
        "ones": [1.0] * 30,  # unit sales are sales
        "two_days_one_sale": [0.0, 4.0],  # ADI 2
        "one_sale": [0.0] * 29 + [7.0],  # one size: no spread, steady
        "never_sold": [0.0] * 30,
        "cv2_just_under": [1.0, 2.0] * 20,  # squared CV 0.11
        "cv2_over_one": [1.0, 1.0, 1.0, 30.0] * 10,  # squared CV about 2.9
    }
    classes = intermittency_class(panel_of(series))
    assert classes.name == "segment"
    assert classes.to_dict() == {
        "smooth": "smooth",
        "erratic": "erratic",
        "intermittent": "intermittent",
        "lumpy": "lumpy",
        "adi_at_edge": "intermittent",
        "ones": "smooth",
        "two_days_one_sale": "intermittent",
        "one_sale": "intermittent",
        "never_sold": "intermittent",
        "cv2_just_under": "smooth",
        "cv2_over_one": "erratic",
    }


def test_the_class_looks_at_the_last_364_days_only():
    year_and_a_day = [1000.0] + [10.0] * 364  # the outlier is 365 days back
    assert intermittency_class(panel_of({"s": year_and_a_day})).tolist() == ["smooth"]
    assert intermittency_class(panel_of({"s": year_and_a_day}), days=365).tolist() == ["erratic"]


def test_segments_by_class_or_department_and_nothing_else(history):
    from ml.ensemble.weights import segments

    assert segments(history).equals(intermittency_class(history))
    by_dept = segments(history, DEPT_ID)
    assert by_dept.name == "segment" and by_dept.to_dict() == {
        f"s{i}": "A" if i % 2 else "B" for i in range(6)
    }
    for by, frame in (("store_id", history), (DEPT_ID, history.drop(columns=DEPT_ID))):
        with pytest.raises(ValueError) as refused:
            segments(frame, by)
        assert str(refused.value) == (
            f"cannot segment by {by!r} (history columns: {list(frame.columns)})"
        )


# -- shrinkage: n / (n + k) of the way from the level above ------------------------------------
def test_segment_weights_move_n_over_n_plus_k_from_the_pooled_weights(history):
    from ml.ensemble.weights import nnls_solution, scaled_errors, segments

    cv = toy_backtest(history, {"ARIMA": 0.5, "XGBoost": 4.0})
    dept_a = cv[UNIQUE_ID].map(history.groupby(UNIQUE_ID)[DEPT_ID].first()) == "A"
    cv.loc[dept_a, "XGBoost"], cv.loc[dept_a, "ARIMA"] = cv[Y] + 0.3, cv[Y] + 3.0
    members, k = ["ARIMA", "XGBoost"], 40.0
    weights = learn_weights(cv, history, members, "nnls_segment", DEPT_ID, shrink_segment=k)
    assert weights.scheme == "nnls_segment" and weights.per_series.index.name == UNIQUE_ID
    errors = scaled_errors(cv, history, members)
    pooled = nnls_solution(errors[members].to_numpy())
    assert weights.default.to_numpy() == pytest.approx(pooled)
    dept_of = segments(history, DEPT_ID)
    for dept, series in (("A", "s1"), ("B", "s0")):
        rows = errors[errors[UNIQUE_ID].map(dept_of) == dept][members].to_numpy()
        blend = len(rows) / (len(rows) + k)
        expected = blend * nnls_solution(rows) + (1 - blend) * pooled
        assert weights.per_series.loc[series].to_numpy() == pytest.approx(expected)
    assert weights.mean().to_numpy() == pytest.approx(weights.per_series.mean().to_numpy())
    assert not weights.mean().equals(weights.default)


# -- the honest comparison ----------------------------------------------------------------------
def overlapping_backtest(history, h=7, step=3, n_windows=3):
    """Windows of ``h`` days whose cutoffs are ``step`` days apart, so they overlap."""
    last = history[DS].max()
    cutoffs = [last - pd.Timedelta(days=h + step * (n_windows - 1 - i)) for i in range(n_windows)]
    rng = np.random.default_rng(5)
    parts = []
    for cutoff in cutoffs:
        rows = history[(history[DS] > cutoff) & (history[DS] <= cutoff + pd.Timedelta(days=h))]
        part = rows[[UNIQUE_ID, DS, Y]].assign(**{CUTOFF: cutoff})
        for member, std in {"ARIMA": 2.0, "XGBoost": 1.0}.items():
            part[member] = part[Y] + rng.normal(0, std, len(part))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def test_each_scheme_learns_only_from_actuals_known_at_the_scored_cutoff(history, monkeypatch):
    import ml.ensemble.weights as weights_module

    cv = overlapping_backtest(history)
    seen = []
    original = weights_module.learn_weights

    def spy(learn, known, members, scheme, segment_by):
        seen.append((learn, known, scheme, segment_by))
        return original(learn, known, members, scheme, segment_by)

    monkeypatch.setattr(weights_module, "learn_weights", spy)
    result = compare_schemes(cv, history, ["ARIMA", "XGBoost"], ["nnls", "equal"], DEPT_ID)
    cutoffs = sorted(cv[CUTOFF].unique())
    assert result.n_learn_windows == 2
    assert [(scheme, by) for _, _, scheme, by in seen] == [
        ("nnls", DEPT_ID),
        ("equal", DEPT_ID),
    ] * 2
    for (learn, known, _, _), cutoff in zip(seen, np.repeat(cutoffs[1:], 2), strict=True):
        allowed = cv[(cv[CUTOFF] < cutoff) & (cv[DS] <= cutoff)]
        assert learn.index.equals(allowed.index)  # every allowed row, and only those
        assert known[DS].max() == cutoff and known.index.equals(
            history[history[DS] <= cutoff].index
        )


def test_the_comparison_scores_each_window_after_the_first_once(history):
    from ml.evaluation.metrics import evaluate_forecasts

    cv = overlapping_backtest(history)
    cutoffs = sorted(cv[CUTOFF].unique())
    cv.loc[cv[CUTOFF] == cutoffs[1], "ARIMA"] += 50.0  # the middle window is scored too
    result = compare_schemes(cv, history, ["ARIMA", "XGBoost"], ["equal"])
    scored = cv[cv[CUTOFF] > cutoffs[0]]
    expected = evaluate_forecasts(scored, history, ["ARIMA", "XGBoost"]).summary()["rmsse"]
    table = result.table.set_index("scheme")["rmsse"]
    assert table["ARIMA"] == pytest.approx(expected["ARIMA"])
    assert table["XGBoost"] == pytest.approx(expected["XGBoost"])
    assert list(result.table.columns) == ["scheme", "rmsse", "mase", "wape", "bias"]
    with_naive = compare_schemes(cv.assign(SeasonalNaive=cv[Y]), history, ["ARIMA"], ["equal"])
    assert set(with_naive.table["scheme"]) == {"equal", "ARIMA"}  # no column but the scored


def test_one_window_falls_back_to_the_given_scheme_and_says_so(history, caplog):
    cv = toy_backtest(history, {"ARIMA": 1.0, "XGBoost": 1.0}, n_windows=1)
    with caplog.at_level("WARNING", logger="ml.ensemble.weights"):
        result = compare_schemes(cv, history, ["ARIMA", "XGBoost"], fallback="equal")
    assert (result.best, result.n_learn_windows) == ("equal", 0)
    assert list(result.table.columns) == ["scheme", "rmsse"] and result.table.empty
    assert [r.getMessage() for r in caplog.records] == [
        "ensemble: one backtest window only; using the equal scheme"
    ]
    assert compare_schemes(cv, history, ["ARIMA"]).best == "fixed"


def test_two_windows_are_enough_to_compare(history):
    cv = toy_backtest(history, {"ARIMA": 4.0, "XGBoost": 0.2}, n_windows=2)
    result = compare_schemes(cv, history, ["ARIMA", "XGBoost"], ["fixed", "nnls"])
    assert (result.best, result.n_learn_windows) == ("nnls", 1)


# -- scales, errors, members --------------------------------------------------------------------
def test_the_rmsse_scale_counts_moves_from_the_first_sale():
    from ml.ensemble.weights import rmsse_scale

    frame = panel_of(
        {
            "late_start": [0.0, 0.0, 1.0, 3.0, 0.0],  # moves 2, -3 -> sqrt(13 / 2)
            "flat": [4.0, 4.0, 4.0],  # no moves: scale 1
            "single": [0.0, 0.0, 5.0],  # one point after the first sale: scale 1
            "tiny": [1.0, 1.000001, 1.0],  # clipped at 0.001
            "never_sold": [0.0, 0.0],
        }
    )
    shuffled = frame.sample(frac=1.0, random_state=3)  # the order of rows does not matter
    scales = rmsse_scale(shuffled)
    assert scales.to_dict() == pytest.approx(
        {"flat": 1.0, "late_start": np.sqrt(6.5), "single": 1.0, "tiny": 1e-3}
    )  # a series never sold has no scale: scaled_errors uses 1 for it


def test_scaled_errors_divide_by_each_series_scale_and_keep_only_complete_rows():
    from ml.ensemble.weights import scaled_errors

    history = panel_of({"a": [0.0, 2.0, 4.0, 6.0], "b": [1.0, 1.0]})  # scales 2 and 1
    cv = pd.DataFrame(
        {
            UNIQUE_ID: ["a", "a", "b", "new", "a"],
            Y: [10.0, 10.0, 5.0, 3.0, np.nan],
            "ARIMA": [6.0, np.nan, 4.0, 1.0, 1.0],
            "XGBoost": [8.0, 9.0, 5.0, 3.0, 1.0],
            "LSTM": [np.nan] * 5,  # not a member here: its gaps drop nothing
        }
    )
    errors = scaled_errors(cv, history, ["ARIMA", "XGBoost"])
    assert list(errors.columns) == [UNIQUE_ID, "ARIMA", "XGBoost"]
    assert errors[UNIQUE_ID].tolist() == ["a", "b", "new"]
    assert errors[["ARIMA", "XGBoost"]].to_numpy().tolist() == [[2.0, 1.0], [1.0, 0.0], [2.0, 0.0]]


def test_a_member_needs_forecasts_for_half_the_rows(caplog):
    from ml.ensemble.weights import available_members

    frame = pd.DataFrame({"A": [1.0, np.nan], "B": [np.nan, np.nan], "C": [1.0, 1.0]})
    with caplog.at_level("WARNING", logger="ml.ensemble.weights"):
        assert available_members(frame, ["A", "B", "C", "D"]) == ["A", "C"]
    assert [r.getMessage() for r in caplog.records] == [
        "ensemble: dropping members without forecasts: ['B', 'D']"
    ]


def test_learning_refuses_unknown_schemes_and_memberless_frames(history):
    cv = toy_backtest(history, {"ARIMA": 1.0})
    with pytest.raises(ValueError) as refused:
        learn_weights(cv, history, ["ARIMA"], "median")
    assert str(refused.value) == f"unknown ensemble scheme 'median'; known: {list(SCHEMES)}"
    with pytest.raises(ValueError) as refused:
        learn_weights(cv, history, ["XGBoost"])
    assert str(refused.value) == "no ensemble member has backtest forecasts"


def test_scheme_names_and_defaults(history, caplog):
    cv = toy_backtest(history, {"ARIMA": 1.0, "XGBoost": 2.0})
    assert learn_weights(cv, history, ["ARIMA", "XGBoost"]).scheme == "nnls"
    equal = learn_weights(cv, history, ["ARIMA", "XGBoost"], "equal")
    assert equal.scheme == "equal" and equal.default.to_dict() == {"ARIMA": 0.5, "XGBoost": 0.5}
    assert learn_weights(cv, history, ["ARIMA", "XGBoost"], "inverse_error").scheme == (
        "inverse_error"
    )
    with caplog.at_level("WARNING", logger="ml.ensemble.weights"):
        fixed = learn_weights(cv, history, ["ARIMA", "XGBoost"], "fixed")
    assert fixed.scheme == "fixed" and caplog.records == []
    no_errors = cv.assign(**{Y: np.nan})
    with caplog.at_level("WARNING", logger="ml.ensemble.weights"):
        fallback = learn_weights(no_errors, history, ["ARIMA", "XGBoost"], "nnls")
    assert fallback.scheme == "fixed"
    assert [r.getMessage() for r in caplog.records] == [
        "ensemble: no backtest errors to learn from; fixed weights"
    ]
    built = build_ensemble(cv, history, ["ARIMA", "XGBoost"])
    assert built.weights.scheme == "nnls"
    by_class = build_ensemble(cv, history, ["ARIMA", "XGBoost"], "nnls_segment")
    expected_by_class = learn_weights(cv, history, ["ARIMA", "XGBoost"], "nnls_segment")
    pd.testing.assert_frame_equal(by_class.weights.per_series, expected_by_class.per_series)
    by_dept = build_ensemble(cv, history, ["ARIMA", "XGBoost"], "nnls_segment", DEPT_ID)
    expected = learn_weights(cv, history, ["ARIMA", "XGBoost"], "nnls_segment", DEPT_ID)
    pd.testing.assert_frame_equal(by_dept.weights.per_series, expected.per_series)
    everything = compare_schemes(cv, history, ["ARIMA", "XGBoost"])  # every scheme, by class
    assert set(SCHEMES) <= set(everything.table["scheme"])


def test_combine_falls_back_to_the_known_members_when_their_weights_are_zero():
    weights = EnsembleWeights("x", pd.Series({"ARIMA": 1.0, "XGBoost": 0.0}))
    frame = pd.DataFrame(
        {UNIQUE_ID: ["a", "a", "a"], "ARIMA": [2.0, np.nan, np.nan], "XGBoost": [6.0, 5.0, np.nan]}
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the all-missing row raises no numpy warning
        combined = combine(frame, weights)
    assert combined[:2].tolist() == [2.0, 5.0] and np.isnan(combined[2])
    with pytest.raises(ValueError) as refused:
        combine(frame[[UNIQUE_ID]], weights)
    assert str(refused.value) == "frame has none of the ensemble members ['ARIMA', 'XGBoost']"


def test_series_weights_are_read_in_the_members_order():
    per_series = pd.DataFrame({"XGBoost": [0.9], "ARIMA": [0.1]}, index=["a"])
    weights = EnsembleWeights("x", pd.Series({"ARIMA": 0.5, "XGBoost": 0.5}), per_series)
    assert weights.matrix(np.array(["a", "unknown"])).tolist() == [[0.1, 0.9], [0.5, 0.5]]
