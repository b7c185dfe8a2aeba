"""A config that does not load is caught by `gunicorn --check-config`; the running service stays up."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from helpers import http_get, main_pid
from playbook import run_deploy
from variants import app_variant

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


NOISY_FAILURE = """import sys

# What a real import failure often looks like: pages of warnings, then the error.
sys.stderr.write("DeprecationWarning: a library warns at import time, at length\\n" * 120)
raise RuntimeError("tuned release cannot start: SETTINGS_MODULE is required")
"""


def test_a_release_that_does_not_import_shows_its_error_and_the_same_version_fixed_deploys(host, tmp_path):
    master = main_pid(host, UNIT)
    version = "1.2.1.post90"
    broken = app_variant(tmp_path / "broken", version)
    (broken / "fastapi_demo" / "settings.py").write_text(NOISY_FAILURE)
    main = broken / "fastapi_demo" / "main.py"
    main.write_text("import fastapi_demo.settings  # noqa: F401\n" + main.read_text())

    failed = deploy(host, tmp_path, app_source_dir=str(broken))
    output = " ".join((failed.stdout + failed.stderr).split())
    assert failed.returncode != 0, output[-3000:]
    assert "does not load" in output, output[-3000:]
    # The error itself, whole, after all the noise before it.
    assert "RuntimeError: tuned release cannot start: SETTINGS_MODULE is required" in output, output[-3000:]
    assert main_pid(host, UNIT) == master

    # The same version fixed: that release never served, so the deploy installs it again over.
    fixed = deploy(host, tmp_path, app_source_dir=str(app_variant(tmp_path / "fixed", version)))
    output = " ".join((fixed.stdout + fixed.stderr).split())
    assert fixed.returncode == 0, output[-3000:]
    assert "already installed" not in output
    health = http_get(host, "http://localhost/health", host_header="gunicorn.test")
    assert health.status == 200
    assert health.json()["version"] == version
