"""Bad inventories: the play fails naming the variable, and the host is left exactly as it was."""

from __future__ import annotations

import pytest

from playbook import run_deploy

# What must not change: config, code, packages, unit files, running services.
SNAPSHOT = (
    "{ find /etc /opt /var/lib/dpkg -xdev -printf '%p %s %m %T@\\n' | sort;"
    " systemctl list-unit-files --no-legend --plain | sort;"
    " systemctl show --property=MainPID tuned-gunicorn.service tuned-uvicorn.service nginx.service;"
    " } | sha256sum"
)


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"app_workers": -2}, ["app_workers must be >= 1", "-2"]),
        (
            {"app_worker_class": "gevent"},
            ["app_worker_class", "uvicorn_worker.UvicornWorker, asgi", "gevent"],
        ),
        ({"app_timeout": "thirty"}, ["app_timeout", "int"]),
        ({"app_bind": "0.0.0.0"}, ["app_bind must be", "unix:/absolute/path.sock", "host:port"]),
        (
            {"app_max_requests": 10, "app_max_requests_jitter": 50},
            ["app_max_requests_jitter must not exceed"],
        ),
        ({"nginx_worker_processes": "many"}, ["nginx_worker_processes must be", "many"]),
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
