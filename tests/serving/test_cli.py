"""``python -m serving`` (what ``retailiq-serve`` / ``make serve`` run): settings from the
environment, the champion served, JSON logs on stderr."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx


def test_the_console_entry_serves_the_champion_with_json_logs(registry, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "RETAILIQ_SERVING_TRACKING_URI": registry.tracking_uri,
        "RETAILIQ_SERVING_API_KEYS": '{"k": "reader"}',
        "RETAILIQ_SERVING_PORT": str(port),
    }
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "serving"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        deadline, ready = time.monotonic() + 120, None
        while ready is None or ready.status_code != 200:
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready")
            except httpx.TransportError:
                continue
        assert ready.json()["model_version"] == "1"
        answer = httpx.post(
            f"http://127.0.0.1:{port}/v1/forecasts",
            headers={"X-API-Key": "k"},
            json={"series_ids": ["S_1__ITEM_0"], "horizon": 2},
        )
        assert answer.status_code == 200 and len(answer.json()["forecasts"][0]["rows"]) == 2
    finally:
        process.terminate()
        process.wait(timeout=30)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    access = [e for e in lines if e["logger"] == "serving.access" and e["path"] == "/v1/forecasts"]
    assert access and access[0]["status"] == 200 and access[0]["request_id"]
    assert any("loaded" in e["message"] and e.get("model_version") == "1" for e in lines)
