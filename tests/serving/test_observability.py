"""Request ids, JSON logs, Prometheus metrics, the catch-all error, shadow mode, /v1/models."""

from __future__ import annotations

import json
import logging
import re

import pytest

from serving.logging import JsonFormatter, bind_request_id, reset_request_id

READER = {"X-API-Key": "reader-key"}
BODY = {"series_ids": ["S_1__ITEM_0"], "horizon": 3}


def test_request_id_is_honoured_or_made_and_returned(client):
    given = client.post("/v1/forecasts", json=BODY, headers={**READER, "X-Request-ID": "abc-1"})
    assert given.headers["x-request-id"] == "abc-1"
    made = client.post("/v1/forecasts", json=BODY, headers=READER)
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    hostile = client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])
    error = client.post("/v1/forecasts", json={}, headers={**READER, "X-Request-ID": "e-7"})
    assert error.json()["request_id"] == "e-7" and error.headers["x-request-id"] == "e-7"


def test_metrics_count_requests_by_route_template_and_status(client):
    client.post("/v1/forecasts", json=BODY, headers=READER)
    client.post("/v1/forecasts", json={"series_ids": []}, headers=READER)
    client.get("/no/such/path")
    text = client.get("/metrics").text
    assert re.search(
        r'retailiq_serving_requests_total\{method="POST",route="/v1/forecasts",'
        r'status="200"\} [1-9]',
        text,
    )
    assert 'route="/v1/forecasts",status="422"' in text
    assert 'route="unmatched",status="404"' in text
    assert re.search(
        r'retailiq_serving_request_duration_seconds_bucket\{le="0.005",'
        r'method="POST",route="/v1/forecasts",status="200"\}',
        text,
    )
    assert re.search(
        r'retailiq_serving_model_info\{alias="champion",model_name='
        r'"demand_forecaster",role="served",version="1"\} 1.0',
        text,
    )


def test_access_log_is_one_json_line_with_the_request_id(running_app, caplog):
    with running_app(access_log=True) as client, caplog.at_level(logging.INFO, "serving"):
        client.post("/v1/forecasts", json=BODY, headers={**READER, "X-Request-ID": "log-1"})
    record = next(r for r in caplog.records if r.name == "serving.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "log-1" and line["route"] == "/v1/forecasts"
    assert line["status"] == 200 and line["duration_ms"] > 0 and line["level"] == "INFO"


def test_json_formatter_carries_the_bound_request_id_and_extras():
    token, request_id = bind_request_id("rid-9")
    try:
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
        record.model_version = "3"
        line = json.loads(JsonFormatter().format(record))
    finally:
        reset_request_id(token)
    assert line["message"] == "hello you" and line["request_id"] == "rid-9" == request_id
    assert line["model_version"] == "3" and line["level"] == "WARNING"


def test_an_unexpected_error_is_a_500_without_a_trace(running_app, monkeypatch):
    with running_app() as client:
        service = client.app.state.service

        def broken(*_, **__):
            raise RuntimeError("secret internals /etc/passwd")

        monkeypatch.setattr(service, "forecast", broken)
        response = client.post("/v1/forecasts", json=BODY, headers=READER)
    assert response.status_code == 500
    body = response.json()
    assert body["name"] == "internal_error" and body["request_id"]
    assert "secret" not in response.text and "Traceback" not in response.text


def test_shadow_answers_are_logged_never_returned(running_app, caplog):
    with (
        running_app(shadow_alias="challenger") as client,
        caplog.at_level(logging.INFO, "serving.shadow"),
    ):
        assert client.get("/ready").json()["shadow_version"] == "2"
        response = client.post("/v1/forecasts", json=BODY, headers=READER).json()
    assert response["model_version"] == "1" and "shadow" not in json.dumps(response)
    record = next(r for r in caplog.records if r.name == "serving.shadow")
    assert (record.served_version, record.shadow_version) == ("1", "2")
    pair = record.series["S_1__ITEM_0"]
    served = [row["quantity"] for row in response["forecasts"][0]["rows"]]
    assert pair["served"] == pytest.approx(served, abs=1e-4)
    assert pair["shadow"] != pair["served"] and len(pair["shadow"]) == 3


def test_models_lists_versions_aliases_and_metrics(client):
    response = client.get("/v1/models", headers=READER)
    assert response.status_code == 200
    body = response.json()
    assert body["served_version"] == "1" and body["served_alias"] == "champion"
    assert body["aliases"] == {"champion": "1", "challenger": "2"}
    versions = {v["version"]: v for v in body["versions"]}
    assert list(versions) == ["2", "1"]
    assert versions["1"]["aliases"] == ["champion"]
    assert versions["2"]["metrics"] == {"rmsse": pytest.approx(0.82)}
    assert versions["1"]["tags"]["code_version"] == "test" and versions["1"]["run_id"]
    assert len(client.get("/v1/models?limit=1", headers=READER).json()["versions"]) == 1
