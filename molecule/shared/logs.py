"""Requests with unique markers, and the JSON log lines they leave in the app's and nginx's logs."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

from helpers import APP, CA

NGINX_ACCESS_LOG = f"/var/log/nginx/{APP}/access.log"
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
BASE_FIELDS = ("timestamp", "level", "logger", "message")
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "client_ip", "user_agent", "request_id")


def marker() -> str:
    """Unique per call, so tests can run again on the same host and find only their own lines."""
    return str(time.time_ns())


def send(
    host,
    paths: list[str],
    user_agent: str,
    *,
    tls: bool = False,
    connect_to: str | None = None,
    server_name: str = "localhost",
) -> list[int]:
    """GET each path through nginx as http(s)://<server_name>, in one curl; returns the statuses in order.

    tls: HTTPS, verified with the test CA. connect_to: connect to this address
    instead of localhost's (the request still names server_name).
    """
    port = 443 if tls else 80
    args = ["--silent", "--max-time", "20", "--user-agent", user_agent, "--write-out", "%{http_code}\\n"]
    if tls:
        args += ["--cacert", CA]
    if connect_to or server_name != "localhost":
        args += ["--resolve", f"{server_name}:{port}:{connect_to or '127.0.0.1'}"]
    base = f"{'https' if tls else 'http'}://{server_name}"
    for path in paths:
        args += ["--output", "/dev/null", base + path]
    out = host.check_output("curl" + " %s" * len(args), *args)
    return [int(code) for code in out.split()]


def json_lines(text: str) -> list[dict]:
    """Every non-empty line parsed as JSON (fails on the first that is not one JSON object)."""
    entries = []
    for line in text.splitlines():
        if line.strip():
            entry = json.loads(line)
            assert isinstance(entry, dict), line
            entries.append(entry)
    return entries


def lines_with(text: str, needle: str) -> list[dict]:
    return json_lines("\n".join(line for line in text.splitlines() if needle in line))


def assert_base_fields(entry: dict) -> None:
    for field in BASE_FIELDS:
        assert field in entry, (field, entry)
    stamp = datetime.fromisoformat(entry["timestamp"])
    assert entry["timestamp"].endswith("Z"), entry["timestamp"]
    assert stamp.utcoffset() == UTC.utcoffset(None), entry["timestamp"]
    assert entry["level"] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}, entry


def assert_access_entry(entry: dict, path: str, status: int, user_agent: str, client_ip: str) -> None:
    assert_base_fields(entry)
    for field in ACCESS_FIELDS:
        assert field in entry, (field, entry)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "asgi.access"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", path, status), entry
    assert entry["message"] == f"GET {path} {status}", entry
    assert isinstance(entry["duration_ms"], float | int), entry
    assert entry["duration_ms"] >= 0, entry
    assert entry["user_agent"] == user_agent, entry
    assert entry["client_ip"] == client_ip, entry
    assert REQUEST_ID.match(entry["request_id"] or ""), entry


def by_path(entries: list[dict], key: str = "path") -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for entry in entries:
        grouped.setdefault(entry[key], []).append(entry)
    return grouped
