"""1 web + 2 app hosts, deployed over SSH as a sudo user: what Prometheus (on the web host) sees, the layout,
who may reach the app hosts, zero failed requests under load during a rolling deploy, a rolling restart, a
release that breaches its post-switch watch on the first host, and a stopped app host; an app stopped on one
host fires TargetDown.

The tests run in file order and build on each other: the first reads the deployment as converged, then
1.2.1 is deployed, the bad release is refused on top of it, the app host stopped is started again.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest

from cluster import APP, PORT, address, docker, load, name
from helpers import active_alerts, main_pid, prometheus_api, unhealthy_targets, wait_for
from playbook import ansible_playbook
from variants import app_variant

GOOD = "1.2.1"
BAD = "1.3.0"
DEPLOY_BATCH = "PLAY [Deploy the FastAPI app on the app hosts]"
RESTART_BATCH = "PLAY [Restart the app]"


def direct(web, app, path: str = "/health", timeout: int = 5):
    """GET an app host's own bind from `web` (any host); returns the command result."""
    return web.run(
        f"curl --silent --show-error --fail --max-time {timeout} http://{address(app)}:{PORT}{path}"
    )


def version_of(web, app) -> str:
    result = direct(web, app)
    assert result.rc == 0, f"/health of {name(app)}: {result.stderr}"
    return json.loads(result.stdout)["version"]


def versions_through_nginx(web, count: int = 12) -> list[str]:
    """What /health reports through the web host's nginx, `count` times (round robin over the app hosts)."""
    versions = []
    for _ in range(count):
        result = web.run(
            "curl --silent --show-error --max-time 5 --write-out ' %{http_code}' http://localhost/health"
        )
        body, _, status = result.stdout.rpartition(" ")
        versions.append(json.loads(body)["version"] if status == "200" else f"HTTP {status}")
    return versions


def assert_no_failures(result, during: str) -> None:
    """Zero failed requests and some served, reported in the test's output."""
    print(f"{during} under load: {result.ok} ok, {result.failed} failed")
    assert result.ok > 0, result.report
    assert result.failed == 0, result.report


def access_lines(web, tag: str) -> list[dict]:
    """nginx's JSON access lines of requests whose user agent is `tag`."""
    log = web.file(f"/var/log/nginx/{APP}/access.log").content_string
    return [json.loads(line) for line in log.splitlines() if tag in line]


def test_every_host_is_deployed_over_ssh_by_the_sudo_user(web, apps):
    """As on a real server (prepare.yml's ssh.yml): Ansible logs in over SSH as `deploy` with the run's key,
    and deploy's sudo runs each module as root, piped to Python's standard input (pipelining): no module file
    is ever written on the host."""
    for host in (web, *apps):
        sshd = host.check_output("journalctl --unit ssh.service --output cat")
        assert re.search(r"^Accepted publickey for deploy from \S+ port \d+ ssh2: ED25519 ", sshd, re.M), (
            f"{name(host)}: {sshd[-2000:]}"
        )
        sudo = host.check_output("journalctl _COMM=sudo --output cat")
        piped = re.findall(
            r"^ *deploy : .*; USER=root ; "
            r"COMMAND=/bin/sh -c 'echo BECOME-SUCCESS-\w+ ; /usr/bin/python3[.\d]*'$",
            sudo,
            re.M,
        )
        assert piped, f"{name(host)}: {sudo[-2000:]}"
        assert "AnsiballZ" not in sudo, f"{name(host)}: a module ran from a file"


def test_prometheus_sees_every_host_where_it_is_true_and_no_alert(web, apps):
    assert wait_for(lambda: not unhealthy_targets(web), timeout=60), unhealthy_targets(web)
    by_job: dict[str, dict[str, dict]] = {}
    for target in prometheus_api(web, "/api/v1/targets")["activeTargets"]:
        by_job.setdefault(target["labels"]["job"], {})[target["labels"].get("host", "")] = target
    app_names = {name(app) for app in apps}
    assert set(by_job) == {"prometheus", APP, "node", "nginx", f"{APP}-site", f"{APP}-version"}
    # The node exporter on every host, the nginx exporter where nginx runs, labelled with host and role.
    assert {host: t["labels"]["role"] for host, t in by_job["node"].items()} == {
        name(web): "web,monitoring,logs",
        **dict.fromkeys(app_names, "app"),
    }
    assert set(by_job["nginx"]) == {name(web)}
    for app in apps:
        assert not app.package("prometheus-nginx-exporter").is_installed
    # Each app host's own metrics and version on its own bind, not whichever host nginx picks.
    assert {host: t["scrapeUrl"] for host, t in by_job[APP].items()} == {
        name(app): f"http://{address(app)}:{PORT}/metrics" for app in apps
    }
    assert set(by_job[f"{APP}-version"]) == app_names
    assert [t["labels"]["instance"] for t in by_job[f"{APP}-site"].values()] == ["http://localhost/health"]
    # Nothing pending or firing, over several evaluations (every 2 s here), once the central log has
    # caught up with the deploy's lines (LogsSilent: each host's first upload sends its journal from
    # the start).
    # The catch-up took over 90 s with a second scenario running beside this one: up to 5 minutes.
    initial = active_alerts(web)
    assert wait_for(lambda: active_alerts(web) == [], timeout=300), (initial, active_alerts(web))
    for _ in range(4):
        assert active_alerts(web) == []
        time.sleep(2)


def test_app_hosts_listen_on_their_private_address(web, apps):
    for app in apps:
        socket = app.file(f"/etc/systemd/system/{APP}.socket").content_string
        assert f"ListenStream={address(app)}:{PORT}\n" in socket
        assert app.socket(f"tcp://{address(app)}:{PORT}").is_listening
        assert not app.socket(f"unix:///run/{APP}.sock").is_listening


def test_nginx_balances_over_every_app_host(web, apps):
    config = web.check_output("nginx -T 2>/dev/null")
    for app in apps:
        assert re.search(rf"server {re.escape(address(app))}:{PORT} max_fails=1 ", config), config
    # nginx's access log names the upstream of each request: both app hosts serve.
    tag = uuid.uuid4().hex
    for _ in range(10):
        assert web.run(f"curl --silent --fail --user-agent {tag} http://localhost/").rc == 0
    # nginx buffers its access log (flushed at least every second).
    lines = wait_for(lambda: access_lines(web, tag) if len(access_lines(web, tag)) == 10 else [], timeout=5)
    upstreams = {line["upstream_addr"] for line in lines}
    assert upstreams == {f"{address(app)}:{PORT}" for app in apps}


def test_only_web_hosts_reach_the_app_hosts_and_only_prometheus_their_exporters(web, apps):
    first, second = apps
    assert direct(web, first).rc == 0
    # The other app host is no web host: its packets are dropped (IPAddressDeny= on the socket unit).
    refused = direct(second, first, timeout=3)
    assert refused.rc != 0, f"{name(second)} reached {name(first)}'s app: {refused.stdout}"
    # Nor the exporters: the monitoring host (Prometheus) only, and on the monitoring host itself
    # they listen on loopback.
    node = f"curl --silent --fail --max-time 3 --output /dev/null http://{address(first)}:9100/metrics"
    assert web.run(node).rc == 0
    assert second.run(node).rc != 0, f"{name(second)} reached {name(first)}'s node exporter"
    for port in (9100, 9113):
        assert web.socket(f"tcp://127.0.0.1:{port}").is_listening
        assert not web.socket(f"tcp://0.0.0.0:{port}").is_listening


def test_app_hosts_trust_forwarded_headers_from_the_web_host_only(web, apps):
    # Through nginx the app logs the real client (curl on the web host: 127.0.0.1), not nginx's address.
    tag = uuid.uuid4().hex
    assert web.run(f"curl --silent --fail --user-agent {tag} http://localhost/items/7").rc == 0
    lines = []
    for app in apps:
        journal = app.check_output(f"journalctl -u {APP} -o cat --since -5min")
        lines += [json.loads(line) for line in journal.splitlines() if tag in line and "asgi.access" in line]
    assert [line["client_ip"] for line in lines] == ["127.0.0.1"], lines


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ("app_bind=unix:/run/fastapi-demo.sock", "is a unix socket, which the web hosts"),
        ("app_bind=127.0.0.1:8000", "app_bind must use one of its private addresses"),
        ("app_private_address=192.0.2.1", "app_bind must use one of its private addresses"),
    ],
    ids=["unix-socket", "loopback", "public-address"],
)
def test_cross_host_settings_are_checked_before_any_change(apps, extra_vars, message):
    before = [
        app.check_output(f"md5sum /etc/systemd/system/{APP}.socket /etc/{APP}/gunicorn.conf.py")
        for app in apps
    ]
    deploy = ansible_playbook("deploy.yml", "-e", extra_vars)
    output = " ".join((deploy.stdout + deploy.stderr).split())
    assert deploy.returncode != 0, output[-3000:]
    assert message in output, output[-3000:]
    assert DEPLOY_BATCH not in output
    assert [
        app.check_output(f"md5sum /etc/systemd/system/{APP}.socket /etc/{APP}/gunicorn.conf.py")
        for app in apps
    ] == before


def test_rolling_deploy_of_a_new_version_fails_no_request(web, apps, tmp_path):
    # An nginx exporter left on an app host (no web host, no nginx site): the deploy stops it.
    leftover = apps[0]
    leftover.run_expect([0], "apt-get install -y --no-install-recommends prometheus-nginx-exporter")
    assert leftover.service("prometheus-nginx-exporter.service").is_enabled
    source = app_variant(tmp_path / "app", GOOD)
    with load(web) as run:
        deploy = ansible_playbook("deploy.yml", "-e", f"app_source_dir={source}")
    assert deploy.returncode == 0, deploy.stdout[-3000:]
    exporter = leftover.service("prometheus-nginx-exporter.service")
    assert not exporter.is_enabled
    assert not exporter.is_running
    # One app host per batch: the app play ran twice.
    assert deploy.stdout.count(DEPLOY_BATCH) == 2, deploy.stdout
    assert_no_failures(run.result, "rolling deploy")
    assert [version_of(web, app) for app in apps] == [GOOD, GOOD]
    assert set(versions_through_nginx(web)) == {GOOD}


def test_rolling_restart_fails_no_request(web, apps):
    before = [main_pid(app, f"{APP}.service") for app in apps]
    with load(web) as run:
        restart = ansible_playbook("restart.yml")
    assert restart.returncode == 0, restart.stdout[-3000:]
    assert restart.stdout.count(RESTART_BATCH) == 2, restart.stdout
    after = [main_pid(app, f"{APP}.service") for app in apps]
    assert all(new and new != old for old, new in zip(before, after, strict=True)), (before, after)
    assert_no_failures(run.result, "rolling restart")


@pytest.fixture(scope="module")
def bad_deploy(web, apps, tmp_path_factory):
    """Deploy a release that passes its health check but answers a third of /items/{item_id} with 500, under
    load on that route, with an 8-second watch; returns (play, load result, untouched host's PID).
    (The single-host `release` scenario has the release whose health check fails.)"""
    source = app_variant(tmp_path_factory.mktemp("bad") / "app", BAD, fault="errors")
    before = {name(app): main_pid(app, f"{APP}.service") for app in apps}
    with load(web, "http://localhost/items/7") as run:
        deploy = ansible_playbook("deploy.yml", "-e", f"app_source_dir={source}", "-e", "app_watch_seconds=8")
    return deploy, run.result, before


def test_a_release_breaching_its_watch_stops_after_the_first_host(web, apps, bad_deploy):
    deploy, result, before = bad_deploy
    output = deploy.stdout + deploy.stderr
    assert deploy.returncode != 0, deploy.stdout[-3000:]
    first, second = apps
    assert f"fatal: [{name(first)}]" in output, deploy.stdout[-3000:]
    assert "5xx 33" in output, deploy.stdout[-3000:]
    assert "on GET /items/{item_id}" in output, deploy.stdout[-3000:]
    # The play stopped after the first batch: the second app host was never switched, nor nginx changed.
    assert deploy.stdout.count(DEPLOY_BATCH) == 1, deploy.stdout
    assert "PLAY [Put nginx in front of the app hosts]" not in deploy.stdout
    assert main_pid(second, f"{APP}.service") == before[name(second)]
    assert version_of(web, second) == GOOD
    # The bad release's own 500s are expected (on the first host, during its watch); nothing went unanswered.
    print(f"breaching release under load: {result.statuses}, {result.errors} without an answer")
    assert result.errors == 0, result.report
    assert set(result.statuses) <= {200, 500}, result.report
    assert result.statuses.get(200, 0) > 0, result.report


def test_a_release_breaching_its_watch_is_rolled_back_on_the_first_host(web, apps, bad_deploy):
    first, _ = apps
    assert version_of(web, first) == GOOD
    assert set(versions_through_nginx(web)) == {GOOD}
    entry = json.loads(first.check_output(f"tail -n 1 /var/lib/fastapi-deploy/{APP}.audit.jsonl"))
    assert (entry["result"], entry["to_version"], entry["from_version"]) == ("rolled back", BAD, GOOD), entry
    assert entry["reason"].startswith("5xx 33"), entry


def test_a_stopped_app_host_is_routed_around(web, apps):
    stopped, serving = apps
    before = address(stopped)
    with load(web) as run:
        docker("stop", name(stopped))
        # Requests keep flowing to the one app host left.
        web.run("sleep 4")
    assert_no_failures(run.result, "app host stopped")
    assert versions_through_nginx(web, 4) == [version_of(web, serving)] * 4

    docker("start", name(stopped))
    assert address(stopped) == before, (
        "the container came back with another address: nginx's upstream is stale"
    )
    assert wait_for(lambda: direct(web, stopped, "/").rc == 0, timeout=90), (
        f"{name(stopped)} did not come back"
    )
    # Within fail_timeout (10 s) nginx sends requests to it again.
    tag = uuid.uuid4().hex

    def served_by_it() -> bool:
        web.run(f"curl --silent --user-agent {tag} http://localhost/")
        return f"{before}:{PORT}" in {line["upstream_addr"] for line in access_lines(web, tag)}

    assert wait_for(served_by_it, timeout=30, interval=1), f"nginx did not return to {name(stopped)}"


def test_an_app_stopped_on_one_host_fires_target_down_and_clears(web, apps):
    stopped, serving = apps

    def targets_down() -> dict[str, str]:
        """Host -> state of the app's TargetDown alerts."""
        return {
            labels["host"]: state
            for alert, state, labels in active_alerts(web)
            if alert == "TargetDown" and labels["job"] == APP
        }

    # The host stopped before is back and scraped.
    assert wait_for(lambda: not unhealthy_targets(web), timeout=90), unhealthy_targets(web)
    assert wait_for(lambda: targets_down() == {}, timeout=60), targets_down()
    # Both units: with the socket still listening, the next scrape would start the app again.
    stopped.run_expect([0], f"systemctl stop {APP}.socket {APP}.service")
    try:
        started = time.monotonic()
        assert wait_for(lambda: targets_down().get(name(stopped)) == "firing", timeout=60), targets_down()
        # "for: 6s", after a failed scrape (every 2 s) and an evaluation (every 2 s), on a shared machine.
        elapsed = time.monotonic() - started
        print(f"TargetDown for {name(stopped)} fired after {elapsed:.0f} s")
        assert 6 <= elapsed <= 30, elapsed
        assert targets_down() == {name(stopped): "firing"}
        assert version_of(web, serving) == GOOD
    finally:
        stopped.run_expect([0], f"systemctl start {APP}.socket {APP}.service")
    assert wait_for(lambda: targets_down() == {}, timeout=60), targets_down()
