"""Prometheus metrics: requests by method, route template and status; latency; requests in progress.

Under Gunicorn every worker is its own process. When ``PROMETHEUS_MULTIPROC_DIR`` is set (the systemd
unit sets it, under its RuntimeDirectory), prometheus_client's multiprocess mode is on: each worker
writes its samples to memory-mapped files there and ``/metrics`` merges the files of all workers, so
whichever worker answers the scrape, a counter is the sum over every worker. Without the variable
(tests, ``uvicorn`` by hand) the usual single-process registry is used.

Process metrics: in multiprocess mode prometheus_client's ``process_*`` collector would describe only
the worker that happened to answer the scrape, so it is not exported; the whole service's memory,
CPU and task count come from its cgroup (``service_*``, see :mod:`fastapi_demo.cgroup`), which is also
what systemd's ``MemoryMax`` limits.
"""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fastapi_demo.cgroup import ServiceCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Label value of requests that match no route: raw paths never become label values.
UNMATCHED = "unmatched"
# Methods outside this set are counted as OTHER, so clients cannot invent label values.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})
OTHER = "OTHER"


def multiproc_dir() -> str | None:
    """The multiprocess directory, created when missing (it lives on tmpfs under the RuntimeDirectory)."""
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        os.makedirs(path, mode=0o750, exist_ok=True)
    return path or None


# The directory must exist before the first sample is written.
multiproc_dir()

REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from receiving a request to sending the last byte of its response.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IN_PROGRESS = Gauge(
    "http_requests_in_progress",
    "HTTP requests being handled right now, summed over the live workers.",
    ["method", "route"],
    multiprocess_mode="livesum",
)

if not multiproc_dir():
    REGISTRY.register(ServiceCollector())


def route_template(routes: list[BaseRoute], scope: Scope) -> str:
    """The path template of the route a request matches (``/items/{item_id}``), else UNMATCHED.

    A route that matches the path but not the method (405) still names the path's template.
    """
    partial: str | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", UNMATCHED))
        if match == Match.PARTIAL and partial is None:
            partial = str(getattr(route, "path", UNMATCHED))
    return partial or UNMATCHED


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else OTHER


class PrometheusMiddleware:
    """Pure ASGI middleware recording every HTTP request in the metrics above."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = method_label(scope["method"])
        route = route_template(self.routes, scope)
        status = 500  # what the client gets when the app raises before responding

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        in_progress = IN_PROGRESS.labels(method, route)
        in_progress.inc()
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            LATENCY.labels(method, route).observe(time.perf_counter() - start)
            REQUESTS.labels(method, route, str(status)).inc()
            in_progress.dec()


def render() -> tuple[bytes, str]:
    """The exposition of all workers (multiprocess mode) or of this process; body and content type."""
    path = multiproc_dir()
    if path:
        # A fresh registry per scrape: MultiProcessCollector reads the files as they are now.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=path)
        registry.register(ServiceCollector())
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
