"""The JSON formatter and access middleware the app role renders (etc/app/deploy_logging.py.j2)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import sys
from collections.abc import Iterator
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "roles/app/templates/etc/app/deploy_logging.py.j2"


def load_module() -> ModuleType:
    # The template holds no Jinja besides its header comment: it is Python as it stands.
    loader = SourceFileLoader("deploy_logging", str(TEMPLATE))
    spec = importlib.util.spec_from_loader("deploy_logging", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["deploy_logging"] = module
    loader.exec_module(module)
    return module


dl = load_module()


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(dl.JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    logger = logging.getLogger(dl.ACCESS_LOGGER)
    handler = ListHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)


def scope(path: str = "/items/1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"q=1",
        "http_version": "1.1",
        "client": ("203.0.113.7", 0),
        "headers": [(b"user-agent", b"probe/1.0"), (b"x-request-id", b"a" * 32)],
        **extra,
    }


def run(app: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(dl.AccessLogMiddleware(app)(request, receive, send))
    return sent


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def test_formatter_writes_one_json_object_with_utc_timestamp_and_extras() -> None:
    record = logging.LogRecord("app.db", logging.WARNING, __file__, 1, "slow %s", ("query",), None)
    record.created = 0.25
    record.msecs = 250.0
    record.table = "items"
    line = dl.JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["timestamp"] == "1970-01-01T00:00:00.250Z"
    assert (entry["level"], entry["logger"], entry["message"]) == ("WARNING", "app.db", "slow query")
    assert entry["table"] == "items"
    assert "args" not in entry
    assert "msg" not in entry


def test_formatter_keeps_tracebacks_on_one_line_and_drops_colour_copies() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    record.color_message = "\x1b[31mfailed\x1b[0m"
    line = dl.JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert "ValueError: boom" in entry["exception"]
    assert "color_message" not in entry


def test_middleware_logs_one_line_per_request_with_request_fields(access_lines: list[str]) -> None:
    sent = run(ok_app, scope())
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    [line] = access_lines
    entry = json.loads(line)
    assert entry["message"] == "GET /items/1 201"
    assert (entry["method"], entry["path"], entry["query"], entry["status"]) == (
        "GET",
        "/items/1",
        "q=1",
        201,
    )
    assert entry["client_ip"] == "203.0.113.7"
    assert entry["user_agent"] == "probe/1.0"
    assert entry["request_id"] == "a" * 32
    assert entry["duration_ms"] >= 0


def test_middleware_logs_500_when_the_app_fails_before_answering(access_lines: list[str]) -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        run(failing, scope(headers=[], client=None))
    [line] = access_lines
    entry = json.loads(line)
    assert (entry["status"], entry["client_ip"], entry["user_agent"], entry["request_id"]) == (
        500,
        None,
        None,
        None,
    )


def test_middleware_passes_other_scopes_through_unlogged(access_lines: list[str]) -> None:
    seen = []

    async def lifespan_app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    run(lifespan_app, {"type": "lifespan"})
    assert seen == ["lifespan"]
    assert access_lines == []


def test_middleware_is_silent_when_the_access_logger_is_off(access_lines: list[str]) -> None:
    logging.getLogger(dl.ACCESS_LOGGER).setLevel(logging.WARNING)
    run(ok_app, scope())
    assert access_lines == []
