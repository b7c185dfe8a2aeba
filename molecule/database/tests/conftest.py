"""Fixtures of the database scenario: the db host (web and apps: molecule/shared/scenario_fixtures.py).

The tests take no `host` fixture, so each runs once (not once per host).
"""

from __future__ import annotations

import pytest

from scenario_fixtures import hosts_of


@pytest.fixture(scope="session")
def db():
    (host,) = hosts_of("database")
    return host
