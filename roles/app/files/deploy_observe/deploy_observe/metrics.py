"""Prometheus metrics: requests by method, route template and status; latency; requests in progress.

Under Gunicorn every worker is its own process. When ``PROMETHEUS_MULTIPROC_DIR`` is set (the systemd
unit sets it, under its RuntimeDirectory), prometheus_client's multiprocess mode is on: each worker
writes its samples to memory-mapped files there and the exposition merges the files of all workers, so
whichever worker answers the scrape, a counter is the sum over every worker; the Gunicorn config's
``child_exit`` hook marks a gone worker's in-progress gauge dead. Without the variable (tests,
``uvicorn`` by hand) the usual single-process registry is used.

Process metrics: in multiprocess mode prometheus_client's ``process_*`` collector would describe only
the worker that happened to answer the scrape, so it is not exported; the whole service's memory,
CPU and task count come from its cgroup (``service_*``, :mod:`deploy_observe.cgroup`), which is also
what systemd's ``MemoryMax`` limits.
"""

from __future__ import annotations

import os
from typing import Any

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

from deploy_observe.cgroup import ServiceCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

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


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else OTHER


class Recorder:
    """The labelled children of the three metrics, looked up once per label set.

    ``labels()`` takes a lock and builds its key on every call; the label sets are bounded (known
    methods x route templates x status codes), so their children are kept here.
    """

    def __init__(self) -> None:
        self._latency_gauge: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._requests: dict[tuple[str, str, int], Any] = {}

    def started(self, method: str, route: str) -> Any:
        """Count a request in progress; returns the latency histogram child to observe at its end."""
        key = (method, route)
        pair = self._latency_gauge.get(key)
        if pair is None:
            pair = self._latency_gauge[key] = (
                LATENCY.labels(method, route),
                IN_PROGRESS.labels(method, route),
            )
        pair[1].inc()
        return pair

    def finished(self, pair: Any, method: str, route: str, status: int, seconds: float) -> None:
        pair[0].observe(seconds)
        pair[1].dec()
        key = (method, route, status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = REQUESTS.labels(method, route, str(status))
        counter.inc()


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
