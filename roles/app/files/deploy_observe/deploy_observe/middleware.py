"""The ASGI middleware around the app: metrics of every HTTP request, ``/metrics``, a health path."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from deploy_observe.routes import RouteTemplates

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

METRICS_PATH = "/metrics"


def release_version(prefix: str | None = None) -> str | None:
    """The release this interpreter runs: the role installs release X's virtualenv in
    ``<app_home>/releases/X/venv`` and starts it through the ``current`` link, so the venv's real
    path names it. None outside such a layout (a virtualenv made by hand)."""
    venv = Path(os.path.realpath(prefix or sys.prefix))
    if venv.name == "venv" and venv.parent.parent.name == "releases":
        return venv.parent.name
    return None


async def _answer(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode("latin-1")), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ObserveMiddleware:
    """Pure ASGI middleware: records every HTTP request, answers ``/metrics`` (when ``metrics``) and
    ``health_path`` (when given) itself; everything else, lifespan and websockets included, goes to
    the app untouched. Its own answers are counted too, under their path."""

    def __init__(self, app: ASGIApp, *, metrics: bool = True, health_path: str | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.health_path = health_path or None
        self.health_body = json.dumps({"status": "ok", "version": release_version()}).encode()
        if metrics:
            from deploy_observe import metrics as _metrics

            self._m = _metrics
            self.recorder = _metrics.Recorder()
            self.templates = RouteTemplates(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.metrics:
            await self._serve(scope, receive, send)
            return
        method = self._m.method_label(scope["method"])
        path = scope["path"]
        route = path if path == METRICS_PATH or path == self.health_path else self.templates(scope)
        status = 500  # what the client gets when the app raises before responding

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        pair = self.recorder.started(method, route)
        start = time.perf_counter()
        try:
            await self._serve(scope, receive, send_and_note_status)
        finally:
            self.recorder.finished(pair, method, route, status, time.perf_counter() - start)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path == self.health_path:
            await self._own(scope, send, self.health_body, "application/json")
        elif self.metrics and path == METRICS_PATH:
            body, content_type = self._m.render()
            await self._own(scope, send, body, content_type)
        else:
            await self.app(scope, receive, send)

    @staticmethod
    async def _own(scope: Scope, send: Send, body: bytes, content_type: str) -> None:
        # For HEAD the server sends the headers only.
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 405, b'{"detail":"Method Not Allowed"}', "application/json")
            return
        await _answer(send, 200, body, content_type)
