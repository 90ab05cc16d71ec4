"""Hot reload: the champion alias moves under load, the registry goes away, admin reloads."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from serving.service import Registry

READER = {"X-API-Key": "reader-key"}
ADMIN = {"X-API-Key": "admin-key"}
BODY = {"series_ids": ["S_1__ITEM_0", "S_2__ITEM_1"], "horizon": 7}


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_moving_champion_swaps_versions_with_zero_failed_requests(live_server, set_champion):
    """Two clients post continuously while champion moves 1 -> 2: every request succeeds,
    each answer is one whole version, and the answers switch to version 2 for good."""
    answers: list[tuple[int, str | None, float | None]] = []
    stop = threading.Event()

    def hammer(base_url: str) -> None:
        with httpx.Client(base_url=base_url, headers=READER, timeout=30) as http:
            while not stop.is_set():
                try:
                    response = http.post("/v1/forecasts", json=BODY)
                    body = response.json()
                    answers.append(
                        (
                            response.status_code,
                            body.get("model_version"),
                            body["forecasts"][0]["rows"][0]["quantity"],
                        )
                    )
                except Exception:  # a dropped connection counts as a failure
                    answers.append((0, None, None))

    with live_server(poll_interval_s=0.2) as base_url:
        clients = [threading.Thread(target=hammer, args=(base_url,)) for _ in range(2)]
        for thread in clients:
            thread.start()
        try:
            _wait_for(lambda: len(answers) >= 20)
            moved_at = len(answers)
            set_champion("2")
            _wait_for(lambda: answers[-1][1] == "2")
            seen = len(answers)
            _wait_for(lambda: len(answers) >= seen + 20)
        finally:
            stop.set()
            for thread in clients:
                thread.join(timeout=30)
        metrics = httpx.get(f"{base_url}/metrics").text
    assert 'retailiq_serving_model_reloads_total{outcome="loaded"} 2.0' in metrics  # not per poll
    assert [a for a in answers if a[0] != 200] == []
    versions = [version for _, version, _ in answers]
    first_two = versions.index("2")
    assert set(versions[:first_two]) == {"1"} and versions[0] == "1"
    assert first_two > moved_at + 5  # version 1 kept answering while version 2 loaded
    assert set(versions[first_two + 5 :]) == {"2"}  # the two clients' last in-flight v1 answers
    by_version = {v: {q for _, ver, q in answers if ver == v} for v in ("1", "2")}
    assert len(by_version["1"]) == len(by_version["2"]) == 1  # one whole version per answer
    assert by_version["1"] != by_version["2"]


def test_admin_reload_loads_the_moved_alias(running_app, set_champion):
    with running_app() as client:
        assert client.get("/ready").json()["model_version"] == "1"
        set_champion("2")  # no polling: nothing happens until asked
        assert (
            client.post("/v1/forecasts", json=BODY, headers=READER).json()["model_version"] == "1"
        )
        response = client.post("/v1/admin/reload", headers=ADMIN)
        assert response.status_code == 200, response.text
        assert response.json() == {"changed": True, "model_version": "2", "previous_version": "1"}
        assert (
            client.post("/v1/forecasts", json=BODY, headers=READER).json()["model_version"] == "2"
        )


@pytest.fixture
def closed_registry(monkeypatch):
    """An HTTP registry on a loopback port nobody listens on (MLflow retries switched off)."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    with socket.socket() as sock:  # a port that was free a moment ago, now closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return Registry(f"http://127.0.0.1:{port}", "demand_forecaster")


def test_unreachable_registry_degrades_ready_but_keeps_serving(running_app, closed_registry):
    with running_app() as client:
        service = client.app.state.service
        reachable, service.registry = service.registry, closed_registry
        reload = client.post("/v1/admin/reload", headers=ADMIN)
        assert reload.status_code == 503 and reload.json()["name"] == "reload_failed"
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded" and ready.json()["model_version"] == "1"
        assert "registry unreachable" in ready.json()["reason"]
        forecast = client.post("/v1/forecasts", json=BODY, headers=READER)
        assert forecast.status_code == 200 and forecast.json()["model_version"] == "1"
        models = client.get("/v1/models", headers=READER)
        assert models.status_code == 503 and models.json()["name"] == "registry_unavailable"
        assert "retailiq_serving_registry_up 0.0" in client.get("/metrics").text

        service.registry = reachable  # the registry comes back: the next check clears it
        assert client.post("/v1/admin/reload", headers=ADMIN).status_code == 200
        assert client.get("/ready").json() | {"loaded_at": None, "last_check": None} == {
            "status": "ready",
            "model_name": "demand_forecaster",
            "alias": "champion",
            "model_version": "1",
            "loaded_at": None,
            "last_check": None,
            "reason": None,
            "shadow_alias": None,
            "shadow_version": None,
        }


def test_not_ready_until_a_model_loads(running_app):
    with running_app(model_name="no_such_model") as client:
        ready = client.get("/ready")
        assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
        assert client.get("/health").json() == {"status": "ok"}
        forecast = client.post("/v1/forecasts", json=BODY, headers=READER)
        assert forecast.status_code == 503 and forecast.json()["name"] == "not_ready"
