"""A config that does not load is caught by `gunicorn --check-config`; the running service stays up."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from helpers import http_get, main_pid

SCENARIO = Path(__file__).resolve().parents[1]
PLAYBOOK = SCENARIO.parents[1] / "playbooks" / "deploy.yml"
UNIT = "tuned-gunicorn.service"


def deploy(host, tmp_path, **overrides) -> subprocess.CompletedProcess[str]:
    """deploy.yml with the tuned Gunicorn app's converge settings plus overrides."""
    plays = yaml.safe_load((SCENARIO / "converge.yml").read_text())
    settings = next(play["vars"] for play in plays if play["name"] == "Deploy the tuned Gunicorn app")
    name = host.ansible.get_variables()["inventory_hostname"]
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {name: {**settings, **overrides}}}}))
    return subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            "-i",
            str(inventory),
            str(PLAYBOOK),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )


def test_unloadable_app_fails_the_check_and_the_service_keeps_running(host, tmp_path):
    master = main_pid(host, UNIT)

    broken = deploy(host, tmp_path, app_module="fastapi_demo.main:missing")
    output = " ".join((broken.stdout + broken.stderr).split())
    assert broken.returncode != 0, output[-3000:]
    assert "Check the Gunicorn config" in output, output[-3000:]
    assert main_pid(host, UNIT) == master
    assert http_get(host, "http://localhost/health", host_header="gunicorn.test").status == 200

    # Put the good settings back: the restart chain passes and restarts it.
    fixed = deploy(host, tmp_path)
    assert fixed.returncode == 0, (fixed.stdout + fixed.stderr)[-3000:]
    assert main_pid(host, UNIT) not in (0, master)
    assert http_get(host, "http://localhost/health", host_header="gunicorn.test").status == 200
