"""Fixtures of the acme scenario: the two web hosts and the pebble CA, by inventory group.

The tests take no `host` fixture, so each runs once (not once per host).
"""

from __future__ import annotations

import pytest

from scenario_fixtures import hosts_of


@pytest.fixture(scope="session")
def webs() -> list:
    hosts = hosts_of("web")
    assert len(hosts) == 2, "the scenario has two web hosts"
    return hosts


@pytest.fixture(scope="session")
def web1(webs):
    """The primary: first of the web group, the app host, runs certbot."""
    return webs[0]


@pytest.fixture(scope="session")
def web2(webs):
    return webs[1]


@pytest.fixture(scope="session")
def pebble():
    (host,) = hosts_of("acme_ca")
    return host


@pytest.fixture(scope="session")
def pebble_root(pebble, webs) -> str:
    """Path, on both web hosts, of the root pebble signs issued certificates with (new at each start)."""
    root = pebble.check_output(
        f"curl --silent --fail --cacert /etc/pebble/ca.pem https://{pebble.backend.host}:15000/roots/0"
    )
    assert "BEGIN CERTIFICATE" in root
    for web in webs:
        web.run_expect([0], f"printf '%s\\n' '{root}' > /tmp/pebble-root.pem")
    return "/tmp/pebble-root.pem"
