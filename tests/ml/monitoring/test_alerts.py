"""Alerts against a real HTTP server on loopback."""

import hashlib
import hmac
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ml.monitoring.alerts import (
    CHECK_FAILED,
    EVENT_HEADER,
    MODEL_PROMOTED,
    RETRAIN_TRIGGERED,
    SIGNATURE_HEADER,
    Alert,
    WebhookConfig,
    emit,
)


class Receiver:
    """A loopback webhook that answers ``failures`` 503s before it accepts."""

    def __init__(self, failures: int = 0, status: int = 503) -> None:
        self.failures, self.status, self.requests = failures, status, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                failing = len(receiver.requests) <= receiver.failures
                self.send_response(receiver.status if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()


def test_event_is_one_json_log_line_even_without_a_webhook(caplog):
    with caplog.at_level(logging.WARNING, logger="retailiq.alerts"):
        delivery = emit(Alert(RETRAIN_TRIGGERED, "drift", {"run_key": "drift:a:b"}))
    assert not delivery.delivered and delivery.attempts == 0
    [record] = caplog.records
    payload = json.loads(record.getMessage())
    assert payload["event"] == "retrain_triggered" and payload["details"]["run_key"] == "drift:a:b"


def test_signed_post_verifies_with_the_shared_secret(receiver):
    server = receiver()
    delivery = emit(
        Alert(MODEL_PROMOTED, "v2 promoted", {"version": "2"}),
        WebhookConfig(server.url, secret="s3cret"),
    )
    assert delivery.delivered and delivery.attempts == 1 and delivery.status_code == 204
    [(headers, body)] = server.requests
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == expected
    assert headers[EVENT_HEADER] == "model_promoted"
    assert json.loads(body)["details"] == {"version": "2"}


def test_no_signature_header_without_a_secret(receiver):
    server = receiver()
    emit(Alert(CHECK_FAILED, "schema"), WebhookConfig(server.url))
    assert SIGNATURE_HEADER not in server.requests[0][0]


def test_a_server_failing_twice_gets_the_alert_on_the_third_try_with_backoff(receiver):
    server, waits = receiver(failures=2), []
    delivery = emit(
        Alert(CHECK_FAILED, "schema"),
        WebhookConfig(server.url, retries=3, backoff_seconds=0.01),
        sleep=waits.append,
    )
    assert delivery.delivered and delivery.attempts == 3
    assert waits == [0.01, 0.02]  # exponential backoff between attempts
    assert len(server.requests) == 3
    assert len({body for _, body in server.requests}) == 1  # the same event each time


def test_gives_up_after_the_retries_and_does_not_raise(receiver, caplog):
    server = receiver(failures=10)
    delivery = emit(
        Alert(CHECK_FAILED, "schema"),
        WebhookConfig(server.url, retries=2, backoff_seconds=0),
        sleep=lambda s: None,
    )
    assert not delivery.delivered and delivery.attempts == 3 and delivery.error == "HTTP 503"
    assert "not delivered" in caplog.text


def test_a_client_error_is_not_retried(receiver):
    server = receiver(failures=10, status=400)
    delivery = emit(
        Alert(CHECK_FAILED, "schema"), WebhookConfig(server.url, retries=3), sleep=lambda s: None
    )
    assert delivery.attempts == 1 and delivery.status_code == 400


def test_an_unreachable_webhook_is_retried_then_reported():
    delivery = emit(
        Alert(CHECK_FAILED, "x"),
        WebhookConfig("http://127.0.0.1:9/", retries=1, timeout_seconds=1),
        sleep=lambda s: None,
    )
    assert not delivery.delivered and delivery.attempts == 2 and "ConnectError" in delivery.error


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown alert kind"):
        Alert("something", "x")
