"""The fixtures every scenario's tests share, loaded as a pytest plugin.

.config/molecule/config.yml names it in PYTEST_PLUGINS and puts molecule/shared on PYTHONPATH.
"""

from __future__ import annotations

import pytest

from helpers import Response, http_get


@pytest.fixture
def get(host):
    def _get(url: str, **kwargs) -> Response:
        return http_get(host, url, **kwargs)

    return _get
