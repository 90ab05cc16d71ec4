import numpy as np
import pandas as pd
import pytest

from ml.monitoring.drift import DriftSpec, drift_windows, feature_drift, historical_kl

DAYS = pd.date_range("2024-01-01", periods=63)


def _table(shift_price: float = 1.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 30
    table = pd.DataFrame(
        {"unique_id": np.repeat([f"s{i}" for i in range(n)], len(DAYS)), "ds": np.tile(DAYS, n)}
    )
    table["y"] = rng.poisson(5, len(table)).astype(float)
    table["sell_price"] = rng.normal(3.0, 0.2, len(table))
    table["lag_7"] = rng.poisson(5, len(table)).astype(float)
    late = table["ds"] > DAYS[-8]
    table.loc[late, "sell_price"] *= shift_price
    return table


def test_windows_take_the_training_tail_and_never_overlap_the_current_days():
    spec = DriftSpec(reference_days=28, current_days=7)
    windows = drift_windows(DAYS[-1], spec, reference_end=DAYS[-10])
    assert (windows.current_start, windows.current_end) == (DAYS[-7], DAYS[-1])
    assert (windows.reference_start, windows.reference_end) == (DAYS[-37], DAYS[-10])
    overlapping = drift_windows(DAYS[-1], spec, reference_end=DAYS[-1])
    assert overlapping.reference_end == DAYS[-8]


def test_no_shift_means_no_drifted_column_and_small_kl(tmp_path):
    spec = DriftSpec()
    summary = feature_drift(_table(), drift_windows(DAYS[-1], spec), spec)
    assert summary.drifted_share == 0.0
    assert not summary.columns["kl_drifted"].any()
    assert summary.significant_kl == 0.0  # even where the noisy KL estimate passes 0.1
    assert set(summary.columns["column"]) == {"y", "sell_price", "lag_7"}


def test_a_price_shift_drifts_that_column_only_and_writes_the_html(tmp_path):
    spec = DriftSpec()
    html = tmp_path / "report.html"
    summary = feature_drift(_table(shift_price=1.3), drift_windows(DAYS[-1], spec), spec, html)
    assert summary.drifted_columns == ["sell_price"]
    assert summary.max_kl_column == "sell_price" and summary.max_kl > spec.kl_threshold
    assert summary.significant_kl == summary.max_kl
    assert summary.significant_kl_column == "sell_price"
    only_demand = DriftSpec(kl_columns=("y",))
    assert (
        feature_drift(
            _table(shift_price=1.3), drift_windows(DAYS[-1], spec), only_demand
        ).significant_kl
        == 0.0
    )
    assert summary.drifted_share == pytest.approx(1 / 3)
    assert html.read_text().lower().startswith("<!doctype html") or "<html" in html.read_text()
    assert summary.n_current == 30 * 7 and summary.n_reference == 30 * 28


def test_a_demand_drop_triggers_on_the_target_kl():
    spec = DriftSpec()
    table = _table()
    late = table["ds"] > DAYS[-8]
    table.loc[late, "y"] = (table.loc[late, "y"] / 2).round()
    summary = feature_drift(table, drift_windows(DAYS[-1], spec), spec)
    flagged = summary.columns.set_index("column")["kl_drifted"].to_dict()
    assert flagged == {"y": True, "sell_price": False, "lag_7": False}
    assert summary.significant_kl == summary.target_kl > spec.kl_threshold


def test_historical_kl_gives_one_row_per_past_week():
    spec = DriftSpec()
    history = historical_kl(_table(), spec, DAYS[-8], weeks=3)
    assert list(history["current_end"]) == [DAYS[-8], DAYS[-15], DAYS[-22]]
    assert (history["kl_significant"] == 0.0).all()  # no shift before the last week


def test_rows_are_sampled_down_to_the_limit_with_a_fixed_seed():
    spec = DriftSpec(max_rows=100)
    first = feature_drift(_table(), drift_windows(DAYS[-1], spec), spec)
    again = feature_drift(_table(), drift_windows(DAYS[-1], spec), spec)
    assert first.n_reference == first.n_current == 100
    pd.testing.assert_frame_equal(first.columns, again.columns)


def test_empty_window_is_a_clear_error():
    spec = DriftSpec()
    with pytest.raises(ValueError, match="no rows to compare"):
        feature_drift(_table(), drift_windows(DAYS[-1] + pd.Timedelta(days=30), spec), spec)


def test_monitored_columns_are_the_target_and_the_models_demand_and_price_inputs():
    from ml.monitoring.drift import monitored_columns

    inputs = ["horizon", "lag_1", "month", "snap", "discount_depth", "store_code", "lag_1"]
    assert monitored_columns(inputs) == ("y", "lag_1", "discount_depth")
    everything = monitored_columns()
    assert everything[0] == "y" and {"lag_364", "zero_share", "price_ratio_dept"} <= set(everything)
    assert not {"day_of_week", "snap", "item_code", "horizon"} & set(everything)
    assert DriftSpec().columns == everything
