"""The fixtures every scenario's tests share, loaded as a pytest plugin.

.config/molecule/config.yml names it in PYTEST_PLUGINS and puts molecule/shared on PYTHONPATH.
"""

from __future__ import annotations

import os

import pytest
import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner

from helpers import Response, http_get


def hosts_of(group: str, *, docker: bool = False) -> list:
    """The testinfra hosts of an inventory group of the scenario, in inventory order: reached as the
    inventory says, or with docker=True through docker exec as root (the container's name)."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    names = AnsibleRunner(inventory).get_hosts(group)
    if docker:
        return [testinfra.get_host(f"docker://{name}") for name in names]
    return [testinfra.get_host(f"ansible://{name}", ansible_inventory=inventory) for name in names]


# The scenarios of several hosts: their tests take these instead of `host`, so each runs once.
@pytest.fixture(scope="session")
def web():
    """The scenario's one web host."""
    (host,) = hosts_of("web")
    return host


@pytest.fixture(scope="session")
def apps() -> list:
    """The scenario's app hosts."""
    hosts = hosts_of("app")
    assert hosts, "the scenario has app hosts"
    return hosts


@pytest.fixture
def get(host):
    def _get(url: str, **kwargs) -> Response:
        return http_get(host, url, **kwargs)

    return _get
