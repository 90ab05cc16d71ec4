"""POST /v1/forecasts and /v1/forecasts/scenarios: the model's numbers, per-id errors, limits."""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd
import pytest

from ml.ensemble.weights import ENSEMBLE
from ml.schema import DS, UNIQUE_ID, forecast_column

IDS = ["S_1__ITEM_0", "S_2__ITEM_2"]
READER = {"X-API-Key": "reader-key"}


@pytest.fixture(scope="module")
def champion_pyfunc(registry):
    mlflow.set_tracking_uri(registry.tracking_uri)
    return mlflow.pyfunc.load_model("models:/demand_forecaster@champion")


def _post(client, body, path="/v1/forecasts"):
    return client.post(path, json=body, headers=READER)


def test_forecast_equals_the_registered_pyfunc(client, champion_pyfunc):
    response = _post(client, {"series_ids": IDS, "horizon": 5, "levels": [80, 95]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model_name"], body["model_version"], body["alias"]) == (
        "demand_forecaster",
        "1",
        "champion",
    )
    assert body["horizon"] == 5 and body["levels"] == [80, 95] and body["unknown_series"] == []
    expected = champion_pyfunc.predict(
        pd.DataFrame({UNIQUE_ID: IDS}), params={"h": 5, "level": [80, 95]}
    )
    for answer in body["forecasts"]:
        rows = expected[expected[UNIQUE_ID] == answer["series_id"]]
        got = pd.DataFrame(answer["rows"])
        assert list(got["date"]) == list(rows[DS].dt.strftime("%Y-%m-%d"))
        assert got["quantity"].to_numpy() == pytest.approx(rows[ENSEMBLE].to_numpy())
        for level in (80, 95):
            assert got[f"lower_{level}"].to_numpy() == pytest.approx(
                rows[forecast_column(ENSEMBLE, "lo", level)].to_numpy()
            )
            assert got[f"upper_{level}"].to_numpy() == pytest.approx(
                rows[forecast_column(ENSEMBLE, "hi", level)].to_numpy()
            )
    assert [a["series_id"] for a in body["forecasts"]] == IDS
    assert body["forecasts"][0]["store_id"] == "S_1" and body["forecasts"][0]["item_id"] == "ITEM_0"


def test_levels_outside_the_table_go_through_the_model(client, champion_pyfunc):
    body = _post(client, {"series_ids": IDS[:1], "horizon": 3, "levels": [60]}).json()
    row = body["forecasts"][0]["rows"][0]
    expected = champion_pyfunc.predict(
        pd.DataFrame({UNIQUE_ID: IDS[:1]}), params={"h": 3, "level": [60]}
    )
    assert row["lower_60"] == pytest.approx(expected[forecast_column(ENSEMBLE, "lo", 60)].iloc[0])
    assert set(row) == {"date", "quantity", "lower_60", "upper_60"}


def test_defaults_are_the_model_horizon_and_80_95(client, horizon):
    body = _post(client, {"series_ids": IDS[:1]}).json()
    assert body["horizon"] == horizon and body["levels"] == [80, 95]
    rows = body["forecasts"][0]["rows"]
    assert len(rows) == horizon
    assert all(
        r["lower_95"] <= r["lower_80"] <= r["quantity"] <= r["upper_80"] <= r["upper_95"]
        for r in rows
    )


def test_unknown_ids_are_reported_per_id_and_the_rest_answered(client):
    body = _post(client, {"series_ids": ["S_1__ITEM_1", "nope", "S_9__X"], "horizon": 2}).json()
    assert [a["series_id"] for a in body["forecasts"]] == ["S_1__ITEM_1"]
    assert body["unknown_series"] == ["nope", "S_9__X"]


def test_store_with_or_without_items(client):
    store = _post(client, {"store_id": "S_2", "horizon": 1}).json()
    assert [a["series_id"] for a in store["forecasts"]] == [f"S_2__ITEM_{i}" for i in range(3)]
    items = _post(client, {"store_id": "S_1", "item_ids": ["ITEM_2", "ITEM_7"], "horizon": 1})
    assert [a["series_id"] for a in items.json()["forecasts"]] == ["S_1__ITEM_2"]
    assert items.json()["unknown_series"] == ["S_1__ITEM_7"]
    missing = _post(client, {"store_id": "S_404"})
    assert missing.status_code == 404 and missing.json()["name"] == "unknown_store"


def test_horizon_beyond_the_model_is_a_clear_422(client, horizon):
    response = _post(client, {"series_ids": IDS, "horizon": horizon + 1})
    assert response.status_code == 422
    assert response.json()["name"] == "horizon_too_long"
    assert f"maximum of {horizon}" in response.json()["message"]


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"series_ids": IDS, "store_id": "S_1"}, "either series_ids or store_id"),
        ({"item_ids": ["ITEM_0"]}, "either series_ids or store_id"),
        ({"series_ids": []}, "series_ids"),
        ({"series_ids": IDS, "levels": [100]}, "levels.0"),
        ({"series_ids": IDS, "horizon": 0}, "horizon"),
        ({"series_ids": IDS, "colour": "red"}, "colour"),
    ],
)
def test_invalid_bodies_get_a_422_naming_the_problem(client, body, fragment):
    response = _post(client, body)
    assert response.status_code == 422
    error = response.json()
    assert error["name"] == "validation_error" and fragment in error["message"]
    assert set(error) == {"name", "message", "request_id"}


def test_malformed_json_is_a_422_not_a_500(client):
    response = client.post(
        "/v1/forecasts",
        content=b"{not json",
        headers={**READER, "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["name"] == "validation_error"


def test_whatif_price_moves_the_forecast_of_price_sensitive_series(client):
    body = {
        "scenarios": [
            {"series_id": "S_1__ITEM_2", "discount_pct": 40},
            {"series_id": "S_2__ITEM_0", "price": 50.0},
            {"series_id": "nope", "price": 1.0},
        ],
        "horizon": 7,
    }
    response = _post(client, body, "/v1/forecasts/scenarios")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["unknown_series"] == ["nope"]
    cheaper, dearer = answer["forecasts"]
    assert cheaper["price"] == pytest.approx(cheaper["base_price"] * 0.6)
    assert len(cheaper["rows"]) == 7 and "lower_80" in cheaper["rows"][0]
    gain = sum(r["quantity"] - r["baseline_quantity"] for r in cheaper["rows"])
    loss = sum(r["quantity"] - r["baseline_quantity"] for r in dearer["rows"])
    assert gain > 0 > loss  # demand falls when the price rises, in the training data too


def test_scenario_baseline_is_the_plain_forecast(client):
    plain = _post(client, {"series_ids": ["S_1__ITEM_2"], "horizon": 7}).json()
    scenario = _post(
        client,
        {"scenarios": [{"series_id": "S_1__ITEM_2", "price": 3.0}], "horizon": 7},
        "/v1/forecasts/scenarios",
    ).json()
    assert [r["baseline_quantity"] for r in scenario["forecasts"][0]["rows"]] == pytest.approx(
        [r["quantity"] for r in plain["forecasts"][0]["rows"]]
    )


def test_a_scenario_needs_exactly_one_price(client):
    response = _post(
        client, {"scenarios": [{"series_id": "S_1__ITEM_2"}]}, "/v1/forecasts/scenarios"
    )
    assert response.status_code == 422
    assert "exactly one of price or discount_pct" in response.json()["message"]


def test_encoded_answers_are_bounded_and_keep_the_default_shape(client):
    table = client.app.state.service.model().table
    default = (table.horizon, (80, 95))
    assert default in table._pinned and len(table._encoded[default]) == len(table.series)
    for h in range(1, 9):  # more shapes than are kept
        body = _post(client, {"series_ids": IDS[:1], "horizon": h}).json()
        assert len(body["forecasts"][0]["rows"]) == h
    assert len(table._encoded) <= 4 and default in table._encoded
