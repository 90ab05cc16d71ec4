"""API keys and roles, and the size and batch limits: 401, 403, 413, 422."""

from __future__ import annotations

import pytest

BODY = {"series_ids": ["S_1__ITEM_0"], "horizon": 2}
GUARDED = [
    ("post", "/v1/forecasts", BODY),
    ("get", "/v1/models", None),
    (
        "post",
        "/v1/forecasts/scenarios",
        {"scenarios": [{"series_id": "S_1__ITEM_0", "price": 2.0}], "horizon": 2},
    ),
    ("post", "/v1/admin/reload", None),
]


def _call(client, method, path, body=None, headers=None):
    return client.request(method, path, json=body, headers=headers or {})


@pytest.mark.parametrize("method, path, body", GUARDED)
def test_no_key_or_a_wrong_key_is_a_401(client, method, path, body):
    for headers in ({}, {"X-API-Key": "not-a-key"}, {"Authorization": "Bearer nope"}):
        response = _call(client, method, path, body, headers)
        assert response.status_code == 401, (path, headers)
        assert response.json()["name"] == "unauthorized"


def test_invocations_need_a_key_unless_public(client):
    response = client.post("/invocations", json={"inputs": {"unique_id": ["S_1__ITEM_0"]}})
    assert response.status_code == 401


@pytest.mark.parametrize("key", ["reader-key", "manager-key"])
def test_admin_routes_refuse_lower_roles_with_a_403(client, key):
    response = client.post("/v1/admin/reload", headers={"X-API-Key": key})
    assert response.status_code == 403
    assert response.json()["name"] == "forbidden" and "admin role" in response.json()["message"]


def test_reader_and_bearer_keys_are_accepted(client):
    assert (
        _call(client, "post", "/v1/forecasts", BODY, {"X-API-Key": "reader-key"}).status_code == 200
    )
    assert (
        _call(
            client, "post", "/v1/forecasts", BODY, {"Authorization": "Bearer manager-key"}
        ).status_code
        == 200
    )


def test_probes_and_metrics_need_no_key(client):
    for path in ("/health", "/ready", "/metrics", "/openapi.json"):
        assert client.get(path).status_code == 200, path


def test_without_configured_keys_the_api_is_open(running_app):
    with running_app(api_keys={}) as client:
        assert client.post("/v1/forecasts", json=BODY).status_code == 200
        assert (
            client.post(
                "/invocations", json={"inputs": {"unique_id": ["S_1__ITEM_0"]}, "params": {"h": 2}}
            ).status_code
            == 200
        )


def test_bodies_over_the_limit_get_a_413_before_they_are_read(running_app):
    ids = [f"S_1__ITEM_{i}" for i in range(200)]
    with running_app(max_body_bytes=1024) as client:
        headers = {"X-API-Key": "reader-key"}
        response = client.post("/v1/forecasts", json={"series_ids": ids}, headers=headers)
        assert response.status_code == 413
        assert response.json()["name"] == "payload_too_large"
        assert "1024 bytes" in response.json()["message"]
        chunked = client.post(
            "/v1/forecasts",
            headers={**headers, "Content-Type": "application/json"},
            content=(b'{"series_ids": ["x"], ' + b" " * 600 for _ in range(3)),
        )
        assert chunked.status_code == 413  # no Content-Length: counted while read
        assert client.post("/v1/forecasts", json=BODY, headers=headers).status_code == 200


def test_batches_over_the_limit_get_a_422(running_app):
    with running_app(max_batch_series=3) as client:
        ids = ["S_1__ITEM_0", "S_1__ITEM_1", "S_1__ITEM_2", "S_2__ITEM_0"]
        response = client.post(
            "/v1/forecasts", json={"series_ids": ids}, headers={"X-API-Key": "reader-key"}
        )
        assert response.status_code == 422 and response.json()["name"] == "too_many_series"
        assert "at most 3 series per request, got 4" in response.json()["message"]
        store = client.post(
            "/v1/forecasts", json={"store_id": "S_1"}, headers={"X-API-Key": "reader-key"}
        )
        assert store.status_code == 200 and len(store.json()["forecasts"]) == 3
