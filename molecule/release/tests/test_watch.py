"""The post-switch watch: a release that passes its health check and then serves / badly
is switched back by the deploy itself, under load, and the audit line says why. Runs after
test_run_lock.py (whose audit test counts the earlier rollbacks), on whatever release is current.

Each release here but the quiet site's is deployed while hey sends / through nginx (8 clients, at
most 200 requests a second; nginx caches /items/ in this scenario), with an 8-second watch: the old
release's window is the install before the switch.
"""

from __future__ import annotations

import json

import pytest

from helpers import APP, BackgroundLoad, main_pid
from playbook import run_deploy
from variants import app_variant

HOME = f"/opt/{APP}"
AUDIT = f"/var/lib/fastapi-deploy/{APP}.audit.jsonl"
WATCH = {"app_watch_seconds": 8}


def flat(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


def current(host) -> str:
    return host.check_output(f"readlink {HOME}/current").removeprefix("releases/")


def last_audit(host) -> dict:
    return json.loads(host.check_output(f"tail -n 1 {AUDIT}"))


def served(host) -> str:
    return json.loads(host.check_output("curl -sf --max-time 5 -k https://localhost/health"))["version"]


@pytest.fixture(scope="module")
def base(host) -> str:
    return current(host).rsplit(".post", 1)[0]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("watch")


def deploy_under_load(host, workdir, version: str, fault: str = ""):
    source = app_variant(workdir / version, version, fault=fault)
    load = BackgroundLoad(host)
    load.start()
    result = run_deploy(host, workdir, {"app_source_dir": str(source), **WATCH}, "--tags", "release")
    return result, load.stop()


@pytest.mark.parametrize(
    ("fault", "post", "reason"),
    [
        ("errors", "post20", "5xx 33"),
        ("slow", "post21", "p95 "),
    ],
)
def test_a_release_breaching_its_watch_is_rolled_back_under_load(host, base, workdir, fault, post, reason):
    before = current(host)
    master = main_pid(host, f"{APP}.service")
    bad = f"{base}.{post}"

    result, load = deploy_under_load(host, workdir, bad, fault)

    output = flat(result)
    assert result.returncode != 0, output[-3000:]
    assert f"Release {bad} of {APP} failed on" in output, output[-3000:]
    assert "Stop where the new release breached its watch" in output, output[-3000:]
    assert reason in output, output[-3000:]
    assert "on GET / (" in output, output[-3000:]
    assert f"Rolled back to release {before}, which serves again" in output, output[-3000:]
    assert current(host) == before
    assert served(host) == before
    # The same master: the way back was a graceful reload, as the way there.
    assert main_pid(host, f"{APP}.service") == master
    entry = last_audit(host)
    assert (entry["result"], entry["to_version"]) == ("rolled back", bad), entry
    assert entry["from_version"] == before, entry
    assert entry["reason"].startswith(reason), entry
    assert "on GET / (" in entry["reason"], entry
    # The breaching release's own 500s are expected; a request without an answer is not.
    assert load.errors == 0, load.report
    assert load.ok > 500, load.report
    assert set(load.statuses) <= {200, 500}, load.report
    if fault == "slow":
        assert load.statuses.get(500, 0) == 0, load.report


def test_on_a_quiet_site_the_watch_paths_catch_a_breach(host, base, workdir):
    """No traffic: the watch sends app_watch_min_requests requests over app_watch_paths to the old
    release before the switch and to the new one during the window, and judges those."""
    before = current(host)
    bad = f"{base}.post22"
    source = app_variant(workdir / bad, bad, fault="errors")
    variables = {"app_source_dir": str(source), **WATCH, "app_watch_paths": ["/", "/items/3"]}

    result = run_deploy(host, workdir, variables, "--tags", "release")

    output = flat(result)
    assert result.returncode != 0, output[-3000:]
    assert "5xx 33% > 1% on all routes (100 requests; the old release: 0%)" in output, output[-3000:]
    assert current(host) == before
    assert served(host) == before
    assert last_audit(host)["result"] == "rolled back"


def test_a_healthy_release_under_load_passes_its_watch(host, base, workdir):
    good = f"{base}.post23"

    result, load = deploy_under_load(host, workdir, good)

    output = flat(result)
    assert result.returncode == 0, output[-3000:]
    assert f"Watch of release {good} on" in output, output[-3000:]
    assert "Passed." in output, output[-3000:]
    assert current(host) == good
    assert load.failed == 0, load.report
