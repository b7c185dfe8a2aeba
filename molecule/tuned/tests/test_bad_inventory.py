"""Bad inventories: the play fails naming the variable, and the host is left exactly as it was."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

PLAYBOOK = Path(__file__).resolve().parents[3] / "playbooks" / "deploy.yml"

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
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_bad_value_fails_before_the_host_changes(host, tmp_path, bad, expected):
    name = host.ansible.get_variables()["inventory_hostname"]
    bad_inventory = tmp_path / "bad.yml"
    # Host variables: above the scenario's group_vars, as an operator's host_vars would be.
    bad_inventory.write_text(yaml.safe_dump({"all": {"hosts": {name: bad}}}))
    before = host.check_output(SNAPSHOT)

    result = subprocess.run(
        [
            "ansible-playbook",
            "--inventory",
            os.environ["MOLECULE_INVENTORY_FILE"],
            "--inventory",
            str(bad_inventory),
            str(PLAYBOOK),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )

    # Ansible prints the failure on stderr and the recap on stdout.
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output[-3000:]
    for text in expected:
        assert text in output, output[-3000:]
    assert "changed=0" in output, output[-3000:]
    assert host.check_output(SNAPSHOT) == before
