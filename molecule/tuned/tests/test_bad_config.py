"""A config that does not load is caught by `gunicorn --check-config`; the running service stays up."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from helpers import http_get, main_pid
from playbook import run_deploy

SCENARIO = Path(__file__).resolve().parents[1]
UNIT = "tuned-gunicorn.service"


def deploy(host, tmp_path, **overrides) -> subprocess.CompletedProcess[str]:
    """deploy.yml with the tuned Gunicorn app's converge settings plus overrides."""
    plays = yaml.safe_load((SCENARIO / "converge.yml").read_text())
    settings = next(play["vars"] for play in plays if play["name"] == "Deploy the tuned Gunicorn app")
    return run_deploy(host, tmp_path, {**settings, **overrides})


def test_unloadable_app_fails_the_check_and_the_service_keeps_running(host, tmp_path):
    master = main_pid(host, UNIT)

    broken = deploy(host, tmp_path, app_module="fastapi_demo.main:missing")
    output = " ".join((broken.stdout + broken.stderr).split())
    assert broken.returncode != 0, output[-3000:]
    assert "does not load" in output, output[-3000:]
    assert main_pid(host, UNIT) == master
    assert http_get(host, "http://localhost/health", host_header="gunicorn.test").status == 200

    # Put the good settings back: the restart chain passes and restarts it.
    fixed = deploy(host, tmp_path)
    assert fixed.returncode == 0, (fixed.stdout + fixed.stderr)[-3000:]
    assert main_pid(host, UNIT) not in (0, master)
    assert http_get(host, "http://localhost/health", host_header="gunicorn.test").status == 200
