"""LSTMForecaster: the forecaster contract, determinism, short series and torch state."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from ml.models.lstm import LSTMForecaster
from ml.schema import (
    DS,
    EVENT_NAME_1,
    EVENT_TYPE_1,
    SELL_PRICE,
    SNAP,
    STORE_ID,
    UNIQUE_ID,
    Y,
    forecast_columns,
)

H = 7
TINY = dict(
    input_size=14,
    horizon=H,
    hidden_size=8,
    embedding_dim=2,
    epochs=2,
    samples_per_epoch=256,
    batch_size=64,
    calibration_horizon=H,
    min_observed=3,
)


def weekly_history(n_series: int = 5, n_days: int = 70, seed: int = 0) -> pd.DataFrame:
    """Poisson sales with a weekend peak, a price column, SNAP days and one event."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-03-01", periods=n_days, freq="D")
    frames = []
    for i in range(n_series):
        mean = (1.0 + 3 * i) * (1.0 + 0.5 * (dates.dayofweek >= 5))
        frame = pd.DataFrame({UNIQUE_ID: f"S_{i % 2}__ITEM_{i}", DS: dates})
        frame[Y] = rng.poisson(mean).astype("float64")
        frame[STORE_ID] = f"S_{i % 2}"
        frame[SELL_PRICE] = 3.0 + i
        frame[SNAP] = (dates.day <= 10).astype("int8")
        frame[EVENT_NAME_1] = np.where(dates.day == 17, "StPatricksDay", None)
        frame[EVENT_TYPE_1] = np.where(dates.day == 17, "Cultural", None)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return weekly_history()


@pytest.fixture(scope="module")
def fitted(history: pd.DataFrame) -> LSTMForecaster:
    return LSTMForecaster(**TINY).fit(history)


def test_forecast_frame_follows_the_contract(fitted: LSTMForecaster, history) -> None:
    forecast = fitted.predict(H, level=[80, 95])
    alias = fitted.alias
    assert list(forecast.columns) == [UNIQUE_ID, DS, *forecast_columns(alias, (80, 95))]
    assert forecast.groupby(UNIQUE_ID).size().eq(H).all()
    assert set(forecast[UNIQUE_ID]) == set(history[UNIQUE_ID])
    assert np.isfinite(forecast[alias]).all() and (forecast[alias] >= 0).all()
    lo80, hi80 = forecast[f"{alias}-lo-80"], forecast[f"{alias}-hi-80"]
    lo95, hi95 = forecast[f"{alias}-lo-95"], forecast[f"{alias}-hi-95"]
    assert (lo95 <= lo80).all() and (lo80 <= forecast[alias]).all()
    assert (forecast[alias] <= hi80).all() and (hi80 <= hi95).all()
    assert (hi95 > lo95).any(), "calibrated intervals must have width"


def test_forecast_follows_series_level(fitted: LSTMForecaster, history) -> None:
    """The busiest series must be forecast above the slowest (the scale reaches the output)."""
    means = fitted.predict(H).groupby(UNIQUE_ID)[fitted.alias].mean()
    actual = history.groupby(UNIQUE_ID)[Y].mean()
    assert means[actual.idxmax()] > means[actual.idxmin()]


def test_same_seed_gives_identical_forecasts(history: pd.DataFrame) -> None:
    first = LSTMForecaster(**TINY, seed=5).fit(history).predict(H, level=[80])
    second = LSTMForecaster(**TINY, seed=5).fit(history).predict(H, level=[80])
    pd.testing.assert_frame_equal(first, second)


def test_other_seed_gives_another_network(history: pd.DataFrame) -> None:
    first = LSTMForecaster(**TINY, seed=1).fit(history).predict(H)
    second = LSTMForecaster(**TINY, seed=2).fit(history).predict(H)
    assert not np.allclose(first["LSTM"], second["LSTM"])


def test_torch_global_state_is_restored(history: pd.DataFrame) -> None:
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    mkldnn = torch.backends.mkldnn.enabled
    LSTMForecaster(**TINY, n_threads=1).fit(history).predict(H)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic
    assert torch.backends.mkldnn.enabled == mkldnn


def test_series_shorter_than_the_input_window(history: pd.DataFrame) -> None:
    """A 9-day series (input window 14) is left-padded and masked, and still forecast."""
    newcomer = weekly_history(n_series=1, n_days=9, seed=9)
    newcomer[UNIQUE_ID] = "S_0__NEW"
    newcomer[DS] = newcomer[DS] + (history[DS].max() - newcomer[DS].max())
    model = LSTMForecaster(**TINY).fit(pd.concat([history, newcomer], ignore_index=True))
    forecast = model.predict(H, level=[80])
    new = forecast[forecast[UNIQUE_ID] == "S_0__NEW"]
    assert len(new) == H
    assert new[DS].min() == newcomer[DS].max() + pd.Timedelta(days=1)
    assert np.isfinite(new["LSTM"]).all() and (new["LSTM"] >= 0).all()
    row = list(model.series_).index("S_0__NEW")
    assert model.panel_.mask[row].sum() == 9  # the rest of the window is padding


def test_no_series_long_enough_to_train_is_an_error(history: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="no series has 10001 days of history to train on"):
        LSTMForecaster(**{**TINY, "min_observed": 10_000}).fit(history)


def test_windows_train_on_the_target_days_inside_the_range_only() -> None:
    """A window whose targets run past the training range counts only the days inside it."""
    model = LSTMForecaster(**{**TINY, "horizon": 4})
    model.panel_ = SimpleNamespace(
        y=np.arange(20, dtype="float32").reshape(2, 10),
        start=np.array([0, 6]),  # the second series starts on position 6
    )
    model.min_observed = 2
    series, counts = model._origins(end=10)
    # the short series has 4 days: with 2 observed, 2 origins are left (targets 8-9 and 9)
    assert series.tolist() == [0, 1] and counts.tolist() == [8, 2]
    series, counts = model._origins(end=8)  # its first origin (7) has no target day before 8
    assert series.tolist() == [0] and counts.tolist() == [6, 0]
    values, known = model._targets(np.array([0, 0]), np.array([5, 1]), end=8)
    assert known.tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]
    assert values.tolist() == [[6, 7, 0, 0], [2, 3, 4, 5]]


def test_X_df_reaches_the_decoder(fitted: LSTMForecaster, history) -> None:
    last = history.groupby(UNIQUE_ID)[DS].max()
    rows = pd.DataFrame(
        {
            UNIQUE_ID: np.repeat(last.index, H),
            DS: np.concatenate([pd.date_range(d, periods=H + 1)[1:] for d in last]),
        }
    )
    plain = fitted.predict(H, X_df=rows.assign(**{SNAP: 0}))
    promoted = fitted.predict(H, X_df=rows.assign(**{SNAP: 1, SELL_PRICE: 0.5}))
    assert not np.allclose(plain["LSTM"], promoted["LSTM"])
    pd.testing.assert_frame_equal(plain, fitted.predict(H))  # defaults: last price, no snap


def test_longer_horizon_than_trained_is_extrapolated(fitted: LSTMForecaster) -> None:
    forecast = fitted.predict(2 * H, level=[95])
    assert forecast.groupby(UNIQUE_ID).size().eq(2 * H).all()
    assert (forecast["LSTM-hi-95"] >= forecast["LSTM"]).all()


def test_unknown_loss_is_rejected(history: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="loss"):
        LSTMForecaster(**TINY, loss="huber").fit(history)


def test_mse_loss_trains(history: pd.DataFrame) -> None:
    forecast = LSTMForecaster(**TINY, loss="mse").fit(history).predict(H)
    assert (forecast["LSTM"] >= 0).all()


def test_bare_frame_without_covariates(history: pd.DataFrame) -> None:
    """Only ``unique_id, ds, y``: no prices, calendar columns or hierarchy codes."""
    bare = history[[UNIQUE_ID, DS, Y]]
    model = LSTMForecaster(**TINY).fit(bare)
    forecast = model.predict(H, level=[80])
    assert (model.codes_ == 1).all()  # no hierarchy: every series shares the "unknown" codes
    assert len(forecast) == 5 * H and (forecast["LSTM"] >= 0).all()


@pytest.mark.slow
@pytest.mark.m5
def test_beats_seasonal_naive_on_real_m5_items(m5_dir) -> None:
    """CA_1 FOODS_1 (216 items, 88 training days, last 28 held out), a small budget."""
    from testkit.m5 import load_m5_sales_history

    from ml.evaluation.metrics import evaluate_forecasts
    from ml.models.seasonal_naive import SeasonalNaive
    from ml.schema import CUTOFF, DEPT_ID

    history = load_m5_sales_history(m5_dir, "short")
    history = history[history[DEPT_ID] == "FOODS_1"]
    cutoff = history[DS].max() - pd.Timedelta(days=28)
    train, test = history[history[DS] <= cutoff], history[history[DS] > cutoff]
    scored = test[[UNIQUE_ID, DS, Y]].assign(**{CUTOFF: cutoff})
    model = LSTMForecaster(epochs=2, samples_per_epoch=8000)
    for forecaster in (SeasonalNaive(), model):
        forecast = forecaster.fit(train).predict(28, X_df=test.drop(columns=[Y]), level=[95])
        scored = scored.merge(forecast, on=[UNIQUE_ID, DS])
    scores = evaluate_forecasts(scored, train, ["SeasonalNaive", "LSTM"], [95]).summary()
    assert scores.loc["LSTM", "rmsse"] < 0.9 * scores.loc["SeasonalNaive", "rmsse"], scores
    assert 0.85 <= scores.loc["LSTM", "coverage_95"] <= 1.0, scores


def test_a_window_near_the_end_reads_the_last_days_covariates_for_days_past_the_data() -> None:
    model = LSTMForecaster(**{**TINY, "horizon": 4, "input_size": 3})
    cov = np.arange(10, dtype="float32").reshape(1, 10, 1)
    model.panel_ = SimpleNamespace(
        y=np.ones((1, 10), dtype="float32"), mask=np.ones((1, 10), dtype="float32"), cov=cov
    )
    model.codes_ = np.zeros((1, 1), dtype="int64")
    import torch

    _, future, _, _ = model._window(torch, np.array([0]), np.array([7]))
    assert future[0, :, 0].tolist() == [8.0, 9.0, 9.0, 9.0]


def test_covariates_are_the_feature_stores_target_day_features(history) -> None:
    """The LSTM reads its covariates from the feature table's rows (one implementation): the
    panel of a fitted model holds exactly ``covariate_matrix`` of ``build_features`` rows."""
    from feature_store.build import build_features
    from ml.models.sequence_inputs import covariate_matrix, rows_of

    model = LSTMForecaster(**TINY).fit(history)
    ordered = history.sort_values([UNIQUE_ID, DS]).reset_index(drop=True)
    expected = covariate_matrix(rows_of(ordered, build_features(ordered)))
    last_series = ordered[UNIQUE_ID] == model.series_[-1]
    np.testing.assert_array_equal(model.panel_.cov[-1, -last_series.sum() :], expected[last_series])


def test_the_declared_inputs_are_all_the_lstm_reads_of_the_feature_table(history) -> None:
    """``feature_names_`` (what a registered version lists) is exactly what the covariates and
    embeddings read: they compute from those columns alone, and each one changes them."""
    from feature_store.build import build_features
    from ml.models.sequence_inputs import (
        covariate_matrix,
        embedding_indices,
        static_vocabulary,
    )

    model = LSTMForecaster(**TINY).fit(history)
    table = build_features(history)
    declared = table[[UNIQUE_ID, *model.feature_names_]]
    full = covariate_matrix(declared)
    codes = embedding_indices(declared, static_vocabulary(declared))
    for column in model.feature_names_:
        shifted = declared[column] + 1
        if column == "day_of_week":
            shifted %= 7
        if column == "sell_price":  # read as "on sale" (a price exists)
            shifted = shifted * np.nan
        changed = declared.assign(**{column: shifted})
        moved = not np.array_equal(covariate_matrix(changed), full, equal_nan=True) or not (
            np.array_equal(embedding_indices(changed, static_vocabulary(declared)), codes)
        )
        assert moved, f"{column} is declared but never read"
