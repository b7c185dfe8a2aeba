"""The app for ``uvicorn --factory deploy_observe.factory:app`` (the role's ``app_server: uvicorn``).

Uvicorn has no hook after loading the app, so its command line names this factory instead, and the
unit's environment says what to wrap and how:

- ``DEPLOY_OBSERVE_APP``: the app, as ``module:attribute`` (the role's ``app_module``);
- ``DEPLOY_OBSERVE_METRICS``: ``1`` to record requests and answer ``/metrics``, ``0`` not to;
- ``DEPLOY_OBSERVE_HEALTH_PATH``: the health path to answer, empty for none.
"""

from __future__ import annotations

import os

from deploy_observe.middleware import ASGIApp, ObserveMiddleware


def app() -> ASGIApp:
    from uvicorn.importer import import_from_string

    target = import_from_string(os.environ["DEPLOY_OBSERVE_APP"])
    return ObserveMiddleware(
        target,
        metrics=os.environ.get("DEPLOY_OBSERVE_METRICS", "1") == "1",
        health_path=os.environ.get("DEPLOY_OBSERVE_HEALTH_PATH") or None,
    )
