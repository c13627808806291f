"""The server's Prometheus metrics (``GET /metrics``), in a registry of its own so that two
servers in one process (tests) count apart."""

from __future__ import annotations

from typing import Any

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

        disable_created_metrics()  # the *_created samples only clutter the page
        self.registry = CollectorRegistry()
        self.requests = Counter("rnncli_requests", "Requests answered, by endpoint and status.",
                                ("endpoint", "status"), registry=self.registry)
        self.errors = Counter("rnncli_errors", "Requests answered 4xx or 5xx, by endpoint and status.",
                              ("endpoint", "status"), registry=self.registry)
        self.latency = Histogram("rnncli_request_seconds", "Time from a request's arrival to its answer.",
                                 ("endpoint",), buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch = Histogram("rnncli_batch_texts", "Texts per engine call.", ("model", "endpoint"),
                               buckets=BATCH_BUCKETS, registry=self.registry)
        self.streams = Gauge("rnncli_generation_streams", "Generation streams open now.", registry=self.registry)
        self.tokens = Counter("rnncli_generated_tokens", "Tokens generated.", ("model",), registry=self.registry)

    def answered(self, endpoint: str, status: int, seconds: float) -> None:
        code = str(status)
        self.requests.labels(endpoint, code).inc()
        if status >= 400:
            self.errors.labels(endpoint, code).inc()
        self.latency.labels(endpoint).observe(seconds)

    def batch_observer(self, model: str, endpoint: str) -> Any:
        return self.batch.labels(model, endpoint).observe

    def text(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)  # type: ignore[no-any-return]
