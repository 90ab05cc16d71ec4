"""Metric values against hand computation (two series, one window, M5-style scaling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.evaluation.metrics import METRIC, evaluate_forecasts, model_columns, trim_leading_zeros
from ml.schema import CUTOFF, DEPT_ID, DS, UNIQUE_ID, Y

DAYS = pd.date_range("2024-01-01", periods=6)
CUT = DAYS[3]


@pytest.fixture
def train() -> pd.DataFrame:
    # a: leading zeros are trimmed -> [1, 3]: naive |diff| 2, squared 4
    # b: [2, 4, 2, 4]: |diffs| 2, 2, 2 -> MAE scale 2, MSE scale 4
    return pd.DataFrame(
        {
            UNIQUE_ID: ["a"] * 4 + ["b"] * 4,
            DS: list(DAYS[:4]) * 2,
            Y: [0.0, 0.0, 1.0, 3.0, 2.0, 4.0, 2.0, 4.0],
            DEPT_ID: ["D1"] * 4 + ["D2"] * 4,
        }
    )


@pytest.fixture
def cv() -> pd.DataFrame:
    return pd.DataFrame(
        {
            UNIQUE_ID: ["a", "a", "b", "b"],
            DS: [DAYS[4], DAYS[5]] * 2,
            CUTOFF: CUT,
            Y: [2.0, 0.0, 4.0, 6.0],
            "M": [1.0, 1.0, 5.0, 3.0],
            "M-lo-80": [0.0, 0.0, 4.0, 2.0],
            "M-hi-80": [3.0, 0.5, 6.0, 5.0],
        }
    )


def value(table: pd.DataFrame, metric: str, **keys) -> float:
    mask = table[METRIC] == metric
    for column, key in keys.items():
        mask &= table[column] == key
    return table.loc[mask, "M"].item()


def test_per_series_metrics_by_hand(cv, train):
    result = evaluate_forecasts(cv, train, levels=[80]).per_series
    a, b = {"unique_id": "a"}, {"unique_id": "b"}
    # a: errors (forecast - actual) -1, +1
    assert value(result, "mae", **a) == pytest.approx(1.0)
    assert value(result, "rmse", **a) == pytest.approx(1.0)
    assert value(result, "bias", **a) == pytest.approx(0.0)
    assert value(result, "wape", **a) == pytest.approx(2 / 2)
    assert value(result, "smape", **a) == pytest.approx((1 / 3 + 1 / 1) / 2)
    assert value(result, "mape", **a) == pytest.approx(1 / 2)  # the zero actual is skipped
    assert value(result, "mase", **a) == pytest.approx(1 / 2)
    assert value(result, "rmsse", **a) == pytest.approx(1 / 2)
    assert value(result, "coverage_80", **a) == pytest.approx(1.0)
    # b: errors +1, -3
    assert value(result, "mae", **b) == pytest.approx(2.0)
    assert value(result, "rmse", **b) == pytest.approx(np.sqrt(5))
    assert value(result, "bias", **b) == pytest.approx(-1.0)
    assert value(result, "wape", **b) == pytest.approx(4 / 10)
    assert value(result, "smape", **b) == pytest.approx((1 / 9 + 3 / 9) / 2)
    assert value(result, "mape", **b) == pytest.approx((1 / 4 + 3 / 6) / 2)
    assert value(result, "mase", **b) == pytest.approx(2 / 2)
    assert value(result, "rmsse", **b) == pytest.approx(np.sqrt(5) / 2)
    assert value(result, "coverage_80", **b) == pytest.approx(0.5)


def test_overall_means_series_but_pools_wape_and_coverage(cv, train):
    evaluation = evaluate_forecasts(cv, train, levels=[80])
    overall = evaluation.overall
    assert value(overall, "mae") == pytest.approx(1.5)
    assert value(overall, "rmsse") == pytest.approx((0.5 + np.sqrt(5) / 2) / 2)
    assert value(overall, "wape") == pytest.approx((2 + 4) / (2 + 10))
    assert value(overall, "coverage_80") == pytest.approx(3 / 4)
    departments = evaluation.per_department
    assert value(departments, "wape", dept_id="D2") == pytest.approx(0.4)
    assert value(departments, "mae", dept_id="D1") == pytest.approx(1.0)
    assert value(evaluation.per_cutoff, "wape", cutoff=CUT) == pytest.approx(0.5)
    summary = evaluation.summary()
    assert summary.loc["M", "mae"] == pytest.approx(1.5)


def test_without_trimming_the_leading_zeros_change_the_scale(cv, train):
    per_series = evaluate_forecasts(cv, train, trim_zeros=False).per_series
    # a untrimmed: |diffs| 0, 1, 2 -> MAE scale 1; squared 0, 1, 4 -> MSE scale 5/3
    assert value(per_series, "mase", unique_id="a") == pytest.approx(1.0)
    assert value(per_series, "rmsse", unique_id="a") == pytest.approx(1 / np.sqrt(5 / 3))


def test_series_values_are_means_over_cutoffs(cv, train):
    later = cv.assign(**{CUTOFF: DAYS[4], "M": cv["M"] + 1})
    both = pd.concat([cv, later], ignore_index=True)
    result = evaluate_forecasts(both, train, models=["M"])
    # a at the second cutoff: errors 0, 2 -> MAE 1; b: 2, -2 -> MAE 2
    assert value(result.per_series, "mae", unique_id="a") == pytest.approx(1.0)
    assert value(result.per_series, "mae", unique_id="b") == pytest.approx(2.0)
    assert len(result.per_cutoff[result.per_cutoff[METRIC] == "mae"]) == 2


def test_helpers(cv, train):
    assert model_columns(cv) == ["M"]
    assert model_columns(cv.assign(**{DEPT_ID: "D1"})) == ["M"]  # the department is no model
    assert trim_leading_zeros(train)[Y].tolist() == [1.0, 3.0, 2.0, 4.0, 2.0, 4.0]


@pytest.mark.m5
@pytest.mark.slow
def test_seasonal_naive_on_m5_long_history_matches_the_reference_rmsse(m5_dir):
    from testkit.m5 import load_m5_sales_history, train_test_split

    from ml.models.seasonal_naive import SeasonalNaive

    train, test = train_test_split(load_m5_sales_history(m5_dir, "long"), h=28)
    forecast = SeasonalNaive().fit(train).predict(28, level=[80, 95])
    holdout = test[[UNIQUE_ID, DS, Y]].merge(forecast, on=[UNIQUE_ID, DS])
    holdout[CUTOFF] = train[DS].max()
    summary = evaluate_forecasts(holdout, train, levels=[80, 95]).summary()
    # reference for this shape (issue 4): seasonal naive mean RMSSE about 0.99
    assert summary.loc["SeasonalNaive", "rmsse"] == pytest.approx(0.993, abs=0.002)
    assert 0.75 < summary.loc["SeasonalNaive", "coverage_80"] < 0.9
    assert 0.9 < summary.loc["SeasonalNaive", "coverage_95"] < 0.99


def test_a_group_whose_demand_sums_to_one_has_a_wape_and_one_with_none_has_nan(train):
    cv = pd.DataFrame(
        {
            UNIQUE_ID: ["a", "a", "b"],
            DS: [DAYS[4], DAYS[5], DAYS[4]],
            CUTOFF: CUT,
            Y: [1.0, 0.0, 0.0],
            "M": [0.5, 0.0, 2.0],
        }
    )
    wape = evaluate_forecasts(cv, train).per_department
    wape = wape[wape[METRIC] == "wape"].set_index(DEPT_ID)["M"]
    assert wape["D1"] == 0.5
    assert np.isnan(wape["D2"])  # nothing sold: no WAPE (not infinity, not zero)


def test_every_table_keeps_series_the_training_frame_does_not_know(cv, train):
    """A series without a department (new since training) is scored, with no department."""
    newcomer = cv[cv[UNIQUE_ID] == "b"].assign(**{UNIQUE_ID: "new"})
    evaluation = evaluate_forecasts(pd.concat([cv, newcomer]), train)
    assert sorted(evaluation.per_series[UNIQUE_ID].unique()) == ["a", "b", "new"]
    overall = evaluation.overall.set_index(METRIC)["M"]
    both = evaluate_forecasts(pd.concat([cv, newcomer]).assign(**{DEPT_ID: "x"}), train)
    assert overall["wape"] == both.overall.set_index(METRIC)["M"]["wape"]


def test_coverage_is_scored_for_every_model_with_bounds_on_all_its_rows(cv, train):
    frame = cv.assign(
        # a model without bounds, listed first, with a gap on the one row M does not cover
        N=[1.0, 1.0, 5.0, np.nan],
        **{"P": cv["M"], "P-lo-80": cv["M-lo-80"], "P-hi-80": cv["M-hi-80"]},
    )
    # no model has 50 % bounds: that level is skipped, not the end of the levels
    evaluation = evaluate_forecasts(frame, train, ["N", "M", "P"], levels=[50, 80])
    coverage = evaluation.per_series_cutoff
    coverage = coverage[coverage[METRIC] == "coverage_80"].set_index(UNIQUE_ID)
    assert coverage["M"].tolist() == [1.0, 0.5] and coverage["P"].tolist() == [1.0, 0.5]
    assert coverage["N"].isna().all()


def test_without_departments_the_department_table_is_empty_but_shaped(cv, train):
    evaluation = evaluate_forecasts(cv, train.drop(columns=DEPT_ID), ["M"])
    assert evaluation.per_department.empty
    assert list(evaluation.per_department.columns) == [DEPT_ID, METRIC, "M"]
    assert list(evaluation.overall.columns) == [METRIC, "M"]
    assert evaluation.summary().columns.name is None
    assert list(evaluation.per_cutoff.columns) == [CUTOFF, METRIC, "M"]


def test_a_series_with_a_flat_history_has_no_scaled_error_rather_than_infinity(cv, train):
    flat = train.assign(**{Y: np.where(train[UNIQUE_ID] == "b", 3.0, train[Y])})
    per_series = evaluate_forecasts(cv, flat, ["M"]).per_series
    rmsse = per_series[per_series[METRIC] == "rmsse"].set_index(UNIQUE_ID)["M"]
    assert np.isfinite(rmsse["a"]) and np.isnan(rmsse["b"])
