"""Request metrics and a release health check around any ASGI app, as the deployment runs it.

The role's Gunicorn config calls :func:`wrap_worker_app` in each worker once the app is loaded
(``post_worker_init``), so the app needs no code of its own for either:

- ``/metrics``: requests by method, route template and status, their latency and the requests in
  progress, merged over every worker (prometheus_client's multiprocess mode), plus the whole
  service's memory, CPU and tasks from its cgroup (:mod:`deploy_observe.metrics`);
- a health path answering ``{"status": "ok", "version": <release>}`` from inside the worker, for
  an app without a health check of its own (:mod:`deploy_observe.middleware`).
"""

from __future__ import annotations

from typing import Any

from deploy_observe.middleware import ObserveMiddleware, release_version

__all__ = ["ObserveMiddleware", "release_version", "wrap_worker_app"]


def wrap_worker_app(worker: Any, *, metrics: bool = True, health_path: str | None = None) -> None:
    """Gunicorn ``post_worker_init`` hook: observe every request the worker's app answers.

    UvicornWorker keeps the loaded app in ``worker.wsgi``, Gunicorn's own ASGI worker in ``worker.asgi``.
    """
    attr = "asgi" if hasattr(worker, "asgi") else "wsgi"
    setattr(worker, attr, ObserveMiddleware(getattr(worker, attr), metrics=metrics, health_path=health_path))
