"""Fixtures of the scenario's tests."""

from __future__ import annotations

import pytest

from helpers import Response, http_get


@pytest.fixture
def get(host):
    def _get(url: str, **kwargs) -> Response:
        return http_get(host, url, **kwargs)

    return _get
