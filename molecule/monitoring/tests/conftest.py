"""Fixtures of the monitoring scenario's tests."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def prometheus(host):
    """GET Prometheus's HTTP API on the host; returns the decoded `data`."""

    def _api(path: str) -> object:
        out = host.check_output(
            "curl --silent --show-error --fail --max-time 5 %s", f"http://127.0.0.1:9090{path}"
        )
        reply = json.loads(out)
        assert reply["status"] == "success", reply
        return reply["data"]

    return _api
