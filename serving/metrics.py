"""Prometheus metrics of one app (its own registry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServingMetrics:
    """Request count and latency by route template and status; the loaded model version."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "retailiq_serving_requests",
            "HTTP requests handled.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "retailiq_serving_request_duration_seconds",
            "Time to answer a request.",
            ["method", "route", "status"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.model = Gauge(
            "retailiq_serving_model_info",
            "1 for the model version loaded per alias.",
            ["model_name", "alias", "version", "role"],
            registry=self.registry,
        )
        self.loaded_at = Gauge(
            "retailiq_serving_model_loaded_timestamp_seconds",
            "When the served model loaded.",
            registry=self.registry,
        )
        self.reloads = Counter(
            "retailiq_serving_model_reloads",
            "Model loads by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.registry_up = Gauge(
            "retailiq_serving_registry_up",
            "1 if the last registry check succeeded.",
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def model_loaded(
        self, name: str, alias: str, version: str, role: str, loaded_at: float | None = None
    ) -> None:
        """Only the current version of a role keeps a series."""
        for labels in list(self.model._metrics):
            if labels[3] == role:
                self.model.remove(*labels)
        self.model.labels(name, alias, version, role).set(1)
        if role == "served" and loaded_at is not None:
            self.loaded_at.set(loaded_at)

    def render(self) -> bytes:
        return generate_latest(self.registry)
