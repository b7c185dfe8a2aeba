"""Fixtures of the monitoring scenario's tests."""

from __future__ import annotations

import pytest

from helpers import prometheus_api


@pytest.fixture
def prometheus(host):
    """GET Prometheus's HTTP API on the host; returns the decoded `data`."""
    return lambda path: prometheus_api(host, path)
