"""Fixtures of the cluster scenario: the web host and the app hosts, through docker exec.

The tests take no `host` fixture, so each runs once (not once per host). Their own commands go through
docker exec as root, which works from the moment a container starts (the app host stopped and started
again); the playbooks they run reach the hosts as converge does, over SSH as the sudo user.
"""

from __future__ import annotations

import pytest

from scenario_fixtures import hosts_of


@pytest.fixture(scope="session")
def web():
    (host,) = hosts_of("web", docker=True)
    return host


@pytest.fixture(scope="session")
def apps() -> list:
    hosts = hosts_of("app", docker=True)
    assert len(hosts) == 2, "the scenario has two app hosts"
    return hosts
