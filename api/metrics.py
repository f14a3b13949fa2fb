"""Prometheus metrics of the API: requests by route and status, latency, and InfluxDB query time.

Each app owns its own CollectorRegistry, so tests can build many apps in one process.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    """The API's collectors, registered in a private registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "village_api_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "village_api_request_duration_seconds",
            "Time from request to the last byte of the answer, by route template",
            ["route"],
            buckets=_BUCKETS_S,
            registry=self.registry,
        )
        self.influx_latency = Histogram(
            "village_api_influx_query_duration_seconds",
            "Time InfluxDB took to answer a /query request",
            buckets=_BUCKETS_S,
            registry=self.registry,
        )
        self.influx_failures = Counter(
            "village_api_influx_failures",
            "InfluxDB queries that failed, by kind (timeout, unreachable, error)",
            ["kind"],
            registry=self.registry,
        )


class MetricsMiddleware:
    """Pure ASGI middleware (no body buffering): counts and times every HTTP request by its route template."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
