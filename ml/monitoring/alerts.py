"""Operational alerts: one structured event per occurrence, logged and optionally posted.

Six kinds of event: a failed run (with its failed steps), a failing blocking check, files
quarantined or rows rejected by ingestion, a retraining trigger, a promotion and a rollback.
Each is one JSON log line on the ``retailiq.alerts`` logger and, when a webhook URL is
configured, one POST of the same JSON. With a secret the body is signed with HMAC-SHA256
(header ``X-RetailIQ-Signature: sha256=<hex>``, the scheme GitHub and Stripe use), so the
receiver can check it came from us. Connection errors, 429 and 5xx answers are retried with
exponential backoff; an alert that cannot be delivered is logged, never raised: alerting must not
fail the run that raised it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

logger = logging.getLogger("retailiq.alerts")

RUN_FAILED = "run_failed"
CHECK_FAILED = "check_failed"
FILES_REJECTED = "files_rejected"
RETRAIN_TRIGGERED = "retrain_triggered"
MODEL_PROMOTED = "model_promoted"
MODEL_ROLLED_BACK = "model_rolled_back"
KINDS = (
    RUN_FAILED,
    CHECK_FAILED,
    FILES_REJECTED,
    RETRAIN_TRIGGERED,
    MODEL_PROMOTED,
    MODEL_ROLLED_BACK,
)
SIGNATURE_HEADER = "X-RetailIQ-Signature"
EVENT_HEADER = "X-RetailIQ-Event"


@dataclass(frozen=True)
class Alert:
    """One event: what happened (``kind``), a one-line summary, and details as JSON values."""

    kind: str
    summary: str
    details: Mapping[str, object] = field(default_factory=dict)
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r}; expected one of {KINDS}")

    def body(self) -> bytes:
        payload = {
            "event": self.kind,
            "summary": self.summary,
            "at": self.at,
            "source": "retailiq",
            "details": dict(self.details),
        }
        return json.dumps(payload, sort_keys=True, default=str).encode()


@dataclass(frozen=True)
class WebhookConfig:
    """Where alerts are posted and how hard we try."""

    url: str
    secret: str | None = None
    retries: int = 3
    backoff_seconds: float = 0.5
    timeout_seconds: float = 5.0


@dataclass(frozen=True)
class Delivery:
    """What happened to one alert: posted or not, after how many attempts, the last error."""

    delivered: bool
    attempts: int = 0
    status_code: int | None = None
    error: str | None = None


def sign(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def emit(
    alert: Alert, webhook: WebhookConfig | None = None, sleep: Callable[[float], None] = time.sleep
) -> Delivery:
    """Log the event as one JSON line, then post it to the webhook when one is configured."""
    body = alert.body()
    logger.warning(body.decode())
    if webhook is None or not webhook.url:
        return Delivery(delivered=False)
    delivery = post(webhook, body, alert.kind, sleep)
    if not delivery.delivered:
        logger.error(
            "alert %s not delivered to %s after %d attempt(s): %s",
            alert.kind,
            webhook.url,
            delivery.attempts,
            delivery.error,
        )
    return delivery


def post(
    webhook: WebhookConfig, body: bytes, kind: str, sleep: Callable[[float], None] = time.sleep
) -> Delivery:
    """POST with retries: 1 + ``retries`` attempts, waiting backoff x 2^n between them."""
    headers = {"Content-Type": "application/json", EVENT_HEADER: kind}
    if webhook.secret:
        headers[SIGNATURE_HEADER] = sign(body, webhook.secret)
    last = Delivery(delivered=False)
    for attempt in range(webhook.retries + 1):
        if attempt:
            sleep(webhook.backoff_seconds * 2 ** (attempt - 1))
        try:
            response = httpx.post(
                webhook.url, content=body, headers=headers, timeout=webhook.timeout_seconds
            )
        except httpx.HTTPError as error:
            last = Delivery(False, attempt + 1, None, f"{type(error).__name__}: {error}")
            continue
        if response.is_success:
            return Delivery(True, attempt + 1, response.status_code)
        last = Delivery(False, attempt + 1, response.status_code, f"HTTP {response.status_code}")
        if response.status_code < 500 and response.status_code != 429:
            break  # the receiver rejected it: sending it again will not help
    return last
