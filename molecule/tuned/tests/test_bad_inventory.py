"""Bad inventories: the play fails naming the variable, and the host is left exactly as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from playbook import run_deploy

# What must not change: config, code, packages, unit files, running services.
SNAPSHOT = (
    "{ find /etc /opt /var/lib/dpkg -xdev -printf '%p %s %m %T@\\n' | sort;"
    " systemctl list-unit-files --no-legend --plain | sort;"
    " systemctl show --property=MainPID tuned-gunicorn.service tuned-uvicorn.service nginx.service;"
    " } | sha256sum"
)


# One of each kind of check; playbooks/tests/bad_settings.yml has a wrong value for every
# option (without a host). Here: the host is left exactly as it was.
@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        # Ansible's check of the spec.
        (
            {"app_worker_class": "gevent"},
            ["app_worker_class", "uvicorn_worker.UvicornWorker, asgi", "gevent"],
        ),
        # The value as given: a string where a list belongs.
        (
            {"nginx_server_names": "gunicorn.test"},
            ['nginx_server_names must be a list (got "gunicorn.test")'],
        ),
        # A role's rules.
        (
            {"app_health_path": "health"},
            [
                'app_health_path must be a URL path starting with "/", without spaces, quotes, braces,'
                ' semicolons or backslashes (got "health")'
            ],
        ),
        ({"app_workers": -2}, ["app_workers must be at least 1 (got -2)"]),
        (
            {"nginx_worker_processes": "many"},
            ['nginx_worker_processes must be "auto" or a number of workers'],
        ),
        # A project whose requires-python this host's Python (Debian 12: 3.11) does not meet.
        (
            {
                "app_source_dir": str(Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "examples/shelf"),
                "app_module": "app.main:app",
            },
            [
                "requires Python >=3.12 (requires-python in",
                "has Python 3.11.",
                "Debian 13 gives 3.13",
            ],
        ),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_bad_value_fails_before_the_host_changes(host, tmp_path, bad, expected):
    before = host.check_output(SNAPSHOT)

    result = run_deploy(host, tmp_path, bad)

    # Ansible prints the failure on stderr and the recap on stdout.
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output[-3000:]
    for text in expected:
        assert text in output, output[-3000:]
    assert "changed=0" in output, output[-3000:]
    assert host.check_output(SNAPSHOT) == before
