"""The demand_forecaster pyfunc: ensemble forecasts, refresh, what-if, MLflow round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from testkit.processes import run_python
from testkit.registry import register_ensemble, sqlite_tracking, tracking_uri_restored

from ml.ensemble.forecaster import EnsembleForecaster, window_forecast
from ml.ensemble.weights import ENSEMBLE, Ensemble, EnsembleWeights
from ml.models.moving_average import MovingAverage
from ml.models.seasonal_naive import SeasonalNaive
from ml.models.xgboost import XGBoostForecaster
from ml.registry.pyfunc import MODEL_VERSION, DemandForecasterModel
from ml.registry.versions import CHAMPION, load_version
from ml.schema import CUTOFF, DS, SELL_PRICE, UNIQUE_ID, Y, forecast_column

H = 7
WEIGHTS = {"SeasonalNaive": 0.3, "MovingAverage": 0.2, "XGBoost": 0.5}


@pytest.fixture(scope="module")
def history(price_response_history):
    return price_response_history()


@pytest.fixture(scope="module")
def forecaster(history, small_ensemble_parts):
    """Members fitted on the history; weights by hand, intervals from a naive backtest."""
    members, calibration = small_ensemble_parts(history, H, n_windows=4, n_estimators=60)
    ensemble = Ensemble(EnsembleWeights("test", pd.Series(WEIGHTS)), calibration)
    return EnsembleForecaster.from_fitted(members, ensemble, history)


def test_ensemble_forecast_is_the_weighted_member_forecast(forecaster):
    out = forecaster.predict(H, level=[80, 95])
    members = forecaster.member_forecasts(H)
    expected = sum(WEIGHTS[m] * members[m] for m in WEIGHTS)
    assert out[ENSEMBLE].to_numpy() == pytest.approx(expected.to_numpy())
    lo80, hi80 = out[forecast_column(ENSEMBLE, "lo", 80)], out[forecast_column(ENSEMBLE, "hi", 80)]
    lo95, hi95 = out[forecast_column(ENSEMBLE, "lo", 95)], out[forecast_column(ENSEMBLE, "hi", 95)]
    assert (lo95 <= lo80).all() and (lo80 <= out[ENSEMBLE]).all()
    assert (out[ENSEMBLE] <= hi80).all() and (hi80 <= hi95).all() and (hi95 > lo95).any()
    assert len(out) == 5 * H


def test_update_reanchors_without_retraining(history):
    older = history[history[DS] <= history[DS].max() - pd.Timedelta(days=H)]
    members = [SeasonalNaive().fit(older), MovingAverage().fit(older)]
    weights = EnsembleWeights("test", pd.Series({"SeasonalNaive": 0.5, "MovingAverage": 0.5}))
    model = EnsembleForecaster.from_fitted(members, Ensemble(weights), older)
    assert model.predict(H)[DS].min() == older[DS].max() + pd.Timedelta(days=1)
    model.update(history)
    out = model.predict(H)
    assert out[DS].min() == history[DS].max() + pd.Timedelta(days=1)
    expected = 0.5 * SeasonalNaive().fit(history).predict(H)["SeasonalNaive"]
    expected += 0.5 * MovingAverage().fit(history).predict(H)["MovingAverage"]
    assert out[ENSEMBLE].to_numpy() == pytest.approx(expected.to_numpy())


def _reanchor_checks(model, older, history):
    """update(same data) changes nothing; update(newer data) moves the origin, same weights."""
    before = model.predict(H, level=[80])
    pd.testing.assert_frame_equal(model.update(older).predict(H, level=[80]), before)
    out = model.update(history).predict(H, level=[80])
    assert out[DS].min() == history[DS].max() + pd.Timedelta(days=1)
    assert not np.allclose(out[model.alias], before[model.alias])
    assert (out[forecast_column(model.alias, "hi", 80)] >= out[model.alias]).all()


def test_window_forecast_puts_a_fitted_ensemble_on_a_past_window(forecaster, history):
    cutoff = history[DS].max() - pd.Timedelta(days=2 * H)
    frame = window_forecast(forecaster, history, cutoff, H, levels=[80])
    assert list(frame.columns[:4]) == [UNIQUE_ID, DS, CUTOFF, Y]
    assert len(frame) == 5 * H and frame[ENSEMBLE].notna().all()
    assert frame[DS].min() == cutoff + pd.Timedelta(days=1)
    assert (frame[forecast_column(ENSEMBLE, "hi", 80)] >= frame[ENSEMBLE]).all()
    # the forecaster itself is untouched: it still forecasts from the end of the history
    assert forecaster.predict(H)[DS].min() == history[DS].max() + pd.Timedelta(days=1)


@pytest.mark.slow
def test_xgboost_update_keeps_the_trees(history):
    older = history[history[DS] <= history[DS].max() - pd.Timedelta(days=H)]
    model = XGBoostForecaster(n_estimators=30, max_depth=3).fit(older)
    booster = model.model_
    _reanchor_checks(model, older, history)
    assert model.model_ is booster


@pytest.mark.slow
def test_lstm_update_keeps_the_network(history):
    from ml.models.lstm import LSTMForecaster

    older = history[history[DS] <= history[DS].max() - pd.Timedelta(days=H)]
    model = LSTMForecaster(
        input_size=14,
        horizon=H,
        hidden_size=8,
        epochs=1,
        samples_per_epoch=256,
        calibration_horizon=H,
    ).fit(older)
    network = model.net_
    _reanchor_checks(model, older, history)
    assert model.net_ is network


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A file-based tracking store and registry in a temporary folder."""
    with tracking_uri_restored():
        yield sqlite_tracking(tmp_path_factory.mktemp("mlflow"), "pyfunc-test")


@pytest.fixture(scope="module")
def champion(registry, forecaster, history):
    members, ensemble = forecaster.members, forecaster.ensemble
    return register_ensemble(
        registry, members, ensemble, history, {"code_version": "x"}, champion=True
    )


@pytest.mark.slow
def test_round_trip_by_alias_gives_the_direct_forecast(registry, champion, forecaster):
    info, version = champion
    loaded = load_version(registry.client(), "demand_forecaster", CHAMPION)
    ids = ["S_1__ITEM_0", "S_1__ITEM_3"]
    out = loaded.predict(pd.DataFrame({UNIQUE_ID: ids}), params={"h": H, "level": [80]})
    direct = forecaster.predict(H, level=[80])
    direct = direct[direct[UNIQUE_ID].isin(ids)].reset_index(drop=True)
    columns = [ENSEMBLE, forecast_column(ENSEMBLE, "lo", 80), forecast_column(ENSEMBLE, "hi", 80)]
    pd.testing.assert_frame_equal(
        out[[UNIQUE_ID, DS, *columns]], direct[[UNIQUE_ID, DS, *columns]], check_dtype=False
    )
    assert set(out[MODEL_VERSION]) == {str(version.version)}
    assert info.signature.params is not None
    assert {p.name for p in info.signature.params} == {"h", "level"}
    optional = {c.name for c in info.signature.inputs.inputs if not c.required}
    assert optional == {DS, SELL_PRICE}


@pytest.mark.slow
def test_fresh_process_loads_the_champion_by_alias(registry, champion, forecaster, tmp_path):
    target = tmp_path / "out.json"
    code = (
        "import sys, mlflow.pyfunc, pandas as pd\n"
        "m = mlflow.pyfunc.load_model('models:/demand_forecaster@champion')\n"
        "out = m.predict(pd.DataFrame({'unique_id': ['*']}), params={'h': 5, 'level': [95]})\n"
        "out.to_json(sys.argv[1], orient='records', date_format='iso')\n"
    )
    env = {"MLFLOW_TRACKING_URI": registry.tracking_uri, "PATH": "/usr/bin:/bin"}
    run_python(["-c", code, str(target)], cwd=tmp_path, env=env, timeout=180)
    out = pd.DataFrame(json.loads(target.read_text()))
    direct = forecaster.predict(5, level=[95])
    assert len(out) == len(direct) == 5 * 5
    assert out[ENSEMBLE].to_numpy() == pytest.approx(direct[ENSEMBLE].to_numpy())
    assert out[forecast_column(ENSEMBLE, "hi", 95)].to_numpy() == pytest.approx(
        direct[forecast_column(ENSEMBLE, "hi", 95)].to_numpy()
    )


class _Context:
    def __init__(self, folder, config=None):
        self.artifacts = {"forecaster": str(folder)}
        self.model_config = config or {}


@pytest.fixture(scope="module")
def pyfunc_model(forecaster, tmp_path_factory):
    """The python model loaded straight from an artifact folder (no MLflow store)."""
    import cloudpickle

    folder = tmp_path_factory.mktemp("artifact")
    (folder / "forecaster.pkl").write_bytes(cloudpickle.dumps(forecaster))
    model = DemandForecasterModel(max_horizon=14)
    model.load_context(_Context(folder, {MODEL_VERSION: "7"}))
    return model


def test_the_pyfunc_tells_serving_its_column_and_the_prices_forecasts_assume(pyfunc_model, history):
    assert pyfunc_model.alias == ENSEMBLE
    prices = pyfunc_model.base_prices()
    last = history.sort_values(DS).groupby(UNIQUE_ID)[SELL_PRICE].last()
    assert prices.sort_index().to_dict() == pytest.approx(last.sort_index().to_dict())


def test_whatif_price_moves_only_the_priced_series(pyfunc_model, history):
    """Every other series is in another department here; one in the priced item's department
    would move too, through its price relative to the department's (a learned substitution)."""
    uid = "S_1__ITEM_2"
    base = pyfunc_model.predict(None, pd.DataFrame({UNIQUE_ID: ["*"]}), {"h": H})
    last = history[DS].max()
    future = pd.DataFrame(
        {
            UNIQUE_ID: uid,
            DS: pd.date_range(last, periods=H + 1)[1:],
            SELL_PRICE: 3 * history.loc[history[UNIQUE_ID] == uid, SELL_PRICE].iloc[-1],
        }
    )
    request = pd.concat([pd.DataFrame({UNIQUE_ID: ["*"]}), future], ignore_index=True)
    whatif = pyfunc_model.predict(None, request, {"h": H})
    changed = (whatif[ENSEMBLE] - base[ENSEMBLE]).abs().groupby(base[UNIQUE_ID]).max()
    assert changed[uid] > 0.01
    assert changed.drop(uid).max() == pytest.approx(0.0, abs=1e-9)
    assert set(whatif[MODEL_VERSION]) == {"7"}


def test_requests_slice_series_horizon_and_levels(pyfunc_model):
    out = pyfunc_model.predict(
        None, pd.DataFrame({UNIQUE_ID: ["S_1__ITEM_1"], "h": [3]}), {"level": [50, 99]}
    )
    assert len(out) == 3 and set(out[UNIQUE_ID]) == {"S_1__ITEM_1"}
    assert forecast_column(ENSEMBLE, "hi", 99) in out and forecast_column(ENSEMBLE, "lo", 50) in out
    longer = pyfunc_model.predict(None, pd.DataFrame({UNIQUE_ID: ["S_1__ITEM_1"]}), {"h": 20})
    assert len(longer) == 20
    with pytest.raises(ValueError, match="unknown series"):
        pyfunc_model.predict(None, pd.DataFrame({UNIQUE_ID: ["nope"]}), None)
    with pytest.raises(ValueError, match="levels"):
        pyfunc_model.predict(None, pd.DataFrame({UNIQUE_ID: ["*"]}), {"level": [100]})
