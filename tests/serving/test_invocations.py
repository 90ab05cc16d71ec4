"""POST /invocations speaks MLflow's scoring protocol and gives the numbers of /v1/forecasts."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import requests
from mlflow.models import convert_input_example_to_serving_input

from ml.ensemble.weights import ENSEMBLE
from ml.schema import UNIQUE_ID, forecast_column

READER = {"X-API-Key": "reader-key"}
IDS = ["S_1__ITEM_1", "S_2__ITEM_0"]
PARAMS = {"h": 5, "level": [80, 95]}


def _served(client) -> pd.DataFrame:
    """/v1/forecasts for the same series and horizon, flattened to the pyfunc's columns."""
    body = client.post(
        "/v1/forecasts", json={"series_ids": IDS, "horizon": 5, "levels": [80, 95]}, headers=READER
    ).json()
    rows = [{UNIQUE_ID: f["series_id"], **row} for f in body["forecasts"] for row in f["rows"]]
    return pd.DataFrame(rows)


def _same_numbers(predictions: list[dict], served: pd.DataFrame) -> None:
    got = pd.DataFrame(predictions)
    assert list(got[UNIQUE_ID]) == list(served[UNIQUE_ID])
    assert list(pd.to_datetime(got["ds"]).dt.strftime("%Y-%m-%d")) == list(served["date"])
    assert got[ENSEMBLE].to_numpy() == pytest.approx(served["quantity"].to_numpy(), rel=1e-12)
    for level in (80, 95):
        for side, key in (("lo", "lower"), ("hi", "upper")):
            assert got[forecast_column(ENSEMBLE, side, level)].to_numpy() == pytest.approx(
                served[f"{key}_{level}"].to_numpy(), rel=1e-12
            )
    assert set(got["model_version"]) == {"1"}


@pytest.mark.parametrize(
    "payload",
    [
        # what `mlflow models predict` / an MLflow client sends for a DataFrame input and params
        json.loads(
            convert_input_example_to_serving_input((pd.DataFrame({UNIQUE_ID: IDS}), PARAMS))
        ),
        {"dataframe_records": [{UNIQUE_ID: i} for i in IDS], "params": PARAMS},
        {"inputs": {UNIQUE_ID: IDS}, "params": PARAMS},
    ],
    ids=["dataframe_split", "dataframe_records", "inputs"],
)
def test_mlflow_payloads_get_the_numbers_of_v1_forecasts(client, payload):
    response = client.post(
        "/invocations",
        content=json.dumps(payload),
        headers={**READER, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-model-version"] == "1"
    _same_numbers(response.json()["predictions"], _served(client))


def test_a_requests_call_written_for_mlflow_serve_works_unchanged(live_server):
    """The exact call a client of `mlflow models serve` makes (plus the key header)."""
    payload = {
        "dataframe_split": {"columns": [UNIQUE_ID], "data": [[i] for i in IDS]},
        "params": PARAMS,
    }
    with live_server(public_invocations=True) as base_url:
        response = requests.post(f"{base_url}/invocations", json=payload, timeout=30)
        assert response.status_code == 200, response.text
        served = requests.post(
            f"{base_url}/v1/forecasts",
            headers=READER,
            timeout=30,
            json={"series_ids": IDS, "horizon": 5, "levels": [80, 95]},
        ).json()
    rows = [{UNIQUE_ID: f["series_id"], **r} for f in served["forecasts"] for r in f["rows"]]
    _same_numbers(response.json()["predictions"], pd.DataFrame(rows))


def test_csv_input_is_scored(client):
    response = client.post(
        "/invocations",
        content=f"{UNIQUE_ID}\n{IDS[0]}\n",
        headers={**READER, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert {p[UNIQUE_ID] for p in predictions} == {IDS[0]} and len(predictions) == 28


@pytest.mark.parametrize(
    "content, content_type, status, fragment",
    [
        (
            '{"dataframe_split": {"columns": ["unique_id"], "data": [["nope"]]}}',
            "application/json",
            400,
            "unknown series ids",
        ),
        ('{"rows": [1, 2]}', "application/json", 400, "dataframe_split"),
        ("{broken", "application/json", 400, "valid JSON"),
        ("unique_id\nS_1__ITEM_1\n", "application/xml", 415, "content types"),
    ],
)
def test_bad_payloads_get_a_4xx_in_the_error_shape(client, content, content_type, status, fragment):
    response = client.post(
        "/invocations", content=content, headers={**READER, "Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"name", "message", "request_id"} and fragment in body["message"]
    assert "Traceback" not in body["message"]
