"""Fixtures of the database scenario: the web host (also an app host), the app hosts and the db host.

The tests take no `host` fixture, so each runs once (not once per host).
"""

from __future__ import annotations

import os

import pytest
import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner


def _hosts(group: str) -> list:
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    names = AnsibleRunner(inventory).get_hosts(group)
    return [testinfra.get_host(f"ansible://{name}", ansible_inventory=inventory) for name in names]


@pytest.fixture(scope="session")
def web():
    (host,) = _hosts("web")
    return host


@pytest.fixture(scope="session")
def apps() -> list:
    hosts = _hosts("app")
    assert len(hosts) == 2, "the scenario has two app hosts"
    return hosts


@pytest.fixture(scope="session")
def db():
    (host,) = _hosts("database")
    return host
