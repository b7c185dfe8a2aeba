"""Fixtures of the cluster scenario: the web host and the app hosts, by inventory group.

The tests take no `host` fixture, so each runs once (not once per host). Their own commands go through
docker exec as root, which works from the moment a container starts (the app host stopped and started
again); the playbooks they run reach the hosts as converge does, over SSH as the sudo user.
"""

from __future__ import annotations

import os

import pytest
import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner


def _hosts(group: str) -> list:
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    names = AnsibleRunner(inventory).get_hosts(group)
    return [testinfra.get_host(f"docker://{name}") for name in names]


@pytest.fixture(scope="session")
def web():
    (host,) = _hosts("web")
    return host


@pytest.fixture(scope="session")
def apps() -> list:
    hosts = _hosts("app")
    assert len(hosts) == 2, "the scenario has two app hosts"
    return hosts
