"""Every target up and no alert after the deploy, metrics across workers, the /metrics allowlist,
the black-box probes, the dashboard's names and a firing alert."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.parse
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers import wait_for
from playbook import run_deploy, run_playbook
from variants import app_variant

APP = "fastapi-demo"
MULTIPROC_DIR = f"/run/{APP}/metrics"
# HTTPS as in the sandbox: the site's CA as the nginx role installs it.
SITE = "https://localhost"
CA = f"/etc/nginx/tls/{APP}/ca.pem"
DASHBOARD = Path(__file__).parents[3] / "dashboards" / "fastapi-app.json"
JOBS = {"prometheus", APP, "node", "nginx", f"{APP}-site", f"{APP}-version"}
ITEMS = (("method", "GET"), ("route", "/items/{item_id}"), ("status", "200"))

# N concurrent GETs through nginx from inside the host; prints how many answered 200.
LOAD = f"""
import ssl, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
context = ssl.create_default_context(cafile="{CA}")
def get(i):
    with urllib.request.urlopen(f"{SITE}/items/{{i}}", timeout=10, context=context) as r:
        return r.status
with ThreadPoolExecutor(8) as pool:
    print(sum(status == 200 for status in pool.map(get, range(int(sys.argv[1])))))
"""

# Per worker file: the /items/{item_id} 200 count it holds, as {pid: count}.
PER_WORKER = f"""
import glob, json
from prometheus_client.multiprocess import MultiProcessCollector
counts = {{}}
for path in glob.glob("{MULTIPROC_DIR}/counter_*.db"):
    pid = path.rsplit("_", 1)[1][:-3]
    for metric in MultiProcessCollector.merge([path], accumulate=True):
        for s in metric.samples:
            if s.name == "http_requests_total" and tuple(sorted(s.labels.items())) == {ITEMS!r}:
                counts[pid] = s.value
print(json.dumps(counts))
"""


def curl(host, url: str, *headers: str, via: str = "") -> tuple[int, str]:
    """GET url (HTTPS trusting the site's CA); via: connect to this address for localhost:443."""
    cmd = ["curl", "--silent", "--max-time", "5", "--cacert", CA, "--output", "/dev/stdout"]
    cmd += ["--write-out", "\n%{http_code}"]
    if via:
        cmd += ["--resolve", f"localhost:443:{via}"]
    for header in headers:
        cmd += ["--header", header]
    out = host.check_output(" ".join(["%s"] * (len(cmd) + 1)), *cmd, url)
    body, _, status = out.rpartition("\n")
    return int(status), body


def items_count(host) -> float:
    status, body = curl(host, f"{SITE}/metrics")
    assert status == 200
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "http_requests_total" and tuple(sorted(sample.labels.items())) == ITEMS:
                return sample.value
    return 0.0


def per_worker(host) -> dict[str, float]:
    return json.loads(host.check_output(f"/opt/{APP}/current/venv/bin/python -c %s", PER_WORKER))


def app_is_healthy(host) -> bool:
    return host.run(f"curl -sf --max-time 1 --cacert {CA} {SITE}/health").rc == 0


def alerts(prometheus) -> list[dict]:
    return prometheus("/api/v1/alerts")["alerts"]


def test_a_healthy_deploy_has_every_target_up_and_no_alert(host, prometheus):
    # The layout of `make deploy`: plain HTTP redirects to a port only the outside has.
    status, _ = curl(host, "http://localhost/metrics")
    assert status == 301
    assert "Location: https://localhost:8443/metrics" in host.check_output(
        "curl -sI http://localhost/metrics"
    )

    def targets() -> list[dict]:
        return prometheus("/api/v1/targets")["activeTargets"]

    def all_up() -> bool:
        found = targets()
        return {t["labels"]["job"] for t in found} == JOBS and all(t["health"] == "up" for t in found)

    assert wait_for(all_up, timeout=60), [(t["scrapeUrl"], t["health"], t["lastError"]) for t in targets()]
    for target in targets():
        assert target["labels"]["role"], target
        if target["labels"]["job"] != f"{APP}-site":
            assert target["labels"]["host"], target
    # The app where it is true: nginx's loopback metrics port, in front of the socket only.
    (app,) = [t for t in targets() if t["labels"]["job"] == APP]
    assert app["scrapeUrl"] == "http://127.0.0.1:8082/metrics"
    # Nothing pending or firing, over several evaluations (every second here).
    for _ in range(5):
        assert alerts(prometheus) == []
        time.sleep(1)


def test_counter_equals_requests_spread_over_all_workers(host):
    n = 300
    total_before, workers_before = items_count(host), per_worker(host)
    answered = host.check_output(f"python3 -c %s {n}", LOAD)
    assert int(answered) == n
    total_after, workers_after = items_count(host), per_worker(host)
    # What /metrics reports, whichever worker answers the scrape, is every worker's count.
    assert total_after - total_before == n
    served = {pid: c - workers_before.get(pid, 0.0) for pid, c in workers_after.items()}
    busy = [pid for pid, c in served.items() if c > 0]
    assert len(busy) >= 2, f"all {n} requests went to one worker, nothing proven: {served}"
    assert sum(served.values()) == n


def test_metrics_through_nginx_only_for_localhost_and_allowlist(host):
    status, body = curl(host, f"{SITE}/metrics")
    assert status == 200
    assert "http_request_duration_seconds_bucket" in body
    own_address = host.check_output("hostname -I").split()[0]
    # From the host's own network address: not loopback, not in nginx_metrics_allow.
    assert curl(host, f"{SITE}/metrics", via=own_address)[0] == 403
    spoofed = curl(host, f"{SITE}/metrics", "X-Forwarded-For: 127.0.0.1", via=own_address)
    assert spoofed[0] == 403
    assert curl(host, f"{SITE}//metrics?x=1", via=own_address)[0] == 403
    # The same client still gets the site itself.
    assert curl(host, f"{SITE}/health", via=own_address)[0] == 200


def test_loopback_metrics_port_serves_only_metrics_and_health(host):
    assert curl(host, "http://127.0.0.1:8082/metrics")[0] == 200
    assert curl(host, "http://127.0.0.1:8082/health")[0] == 200
    assert curl(host, "http://127.0.0.1:8082/items/1")[0] == 404
    assert host.socket("tcp://127.0.0.1:8082").is_listening
    assert not host.socket("tcp://0.0.0.0:8082").is_listening


def test_stub_status_and_exporters_only_on_loopback(host):
    status, body = curl(host, "http://127.0.0.1:8079/nginx_status")
    assert status == 200
    assert body.startswith("Active connections:")
    # The stub_status, the node and the nginx exporter: Prometheus is on this host.
    for port in (8079, 9100, 9113):
        assert host.socket(f"tcp://127.0.0.1:{port}").is_listening
        assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening


def test_multiprocess_dir_is_under_runtime_dir_and_emptied_on_restart(host):
    props = host.service(f"{APP}.service").systemd_properties
    assert f"PROMETHEUS_MULTIPROC_DIR={MULTIPROC_DIR}" in props["Environment"]
    host.check_output(f"curl -sf --cacert {CA} {SITE}/items/7")
    assert items_count(host) > 0
    old_files = set(host.check_output(f"ls {MULTIPROC_DIR}").split())
    host.run_expect([0], f"systemctl restart {APP}.service")
    assert wait_for(lambda: app_is_healthy(host), timeout=15)
    assert items_count(host) == 0
    assert not old_files & set(host.check_output(f"ls {MULTIPROC_DIR}").split())


def test_exited_worker_is_marked_dead(host):
    for i in range(30):  # make every worker create its files
        host.check_output(f"curl -sf --cacert {CA} {SITE}/items/{i}")
    master = int(host.check_output(f"systemctl show --property=MainPID --value {APP}.service"))
    workers = host.check_output(f"ps --ppid {master} -o pid=").split()
    live = [pid for pid in workers if host.file(f"{MULTIPROC_DIR}/gauge_livesum_{pid}.db").exists]
    assert live, f"no worker wrote an in-progress gauge: {workers}"
    victim = live[0]
    host.run_expect([0], f"kill -TERM {victim}")
    # Gunicorn's child_exit hook removes the worker's live gauges; the master replaces it.
    assert wait_for(lambda: not host.file(f"{MULTIPROC_DIR}/gauge_livesum_{victim}.db").exists, timeout=15)
    assert host.file(f"{MULTIPROC_DIR}/counter_{victim}.db").exists, "counters of dead workers must stay"
    assert wait_for(lambda: len(host.check_output(f"ps --ppid {master} -o pid=").split()) == 3, timeout=15)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The nginx exporter reads stub_status.
        ('nginx_up{job="nginx"}', 1.0),
        # The node exporter's systemd collector: input of the restart-loop alert.
        # (host=~".+": not the series of the package's default config, before the role's.)
        (f'node_systemd_unit_state{{name="{APP}.service",state="active",host=~".+"}}', 1.0),
        # Only automatic restarts count (the tests restart by hand): input of the same alert.
        (f'node_systemd_service_restart_total{{name="{APP}.service",host=~".+"}}', 0.0),
        # The app's cgroup limit is the unit's MemoryMax (1G): input of the memory alert.
        (f'service_memory_max_bytes{{job="{APP}"}}', 1024.0**3),
        # The black-box probes: the site through nginx with its TLS, the app host's version.
        (f'probe_success{{job="{APP}-site"}}', 1.0),
        (f'probe_http_ssl{{job="{APP}-site"}}', 1.0),
        (f'probe_success{{job="{APP}-version"}}', 1.0),
        # The served certificate (the sandbox CA signs for 825 days): input of the expiry alert.
        (f'probe_ssl_earliest_cert_expiry{{job="{APP}-site"}} - time() > bool 800 * 86400', 1.0),
    ],
)
def test_alert_inputs_are_scraped(prometheus, query, expected):
    def value() -> list:
        return prometheus(f"/api/v1/query?query={urllib.parse.quote(query)}")["result"]

    result = wait_for(value, timeout=20)
    assert [float(r["value"][1]) for r in result] == [expected], result


# Words of PromQL that are not metric names (functions, aggregations, keywords).
PROMQL_WORDS = {"sum", "rate", "histogram_quantile", "by", "without", "on", "ignoring", "and", "or", "unless"}


def dashboard_expressions() -> list[tuple[str, str]]:
    """(expression, legend) of every panel target and template query, with Grafana's variables filled in."""
    board = json.loads(DASHBOARD.read_text())
    found = [
        (target["expr"], target.get("legendFormat", ""))
        for panel in board["panels"]
        for target in panel.get("targets", [])
    ]
    for variable in board["templating"]["list"]:
        metric, label = re.fullmatch(r"label_values\((\w+), *(\w+)\)", variable["query"]).groups()
        found.append((f'{metric}{{job=~"$job"}}', f"{{{{{label}}}}}"))
    return [(e.replace("$__rate_interval", "1m").replace("$job", APP), legend) for e, legend in found]


def test_dashboard_names_only_metrics_and_labels_prometheus_has(host, prometheus):
    # Traffic on every route the panels break down, so every series exists.
    for path in ("/", "/items/1", "/health"):
        host.check_output(f"curl -sf --cacert {CA} {SITE}{path}")
    expressions = dashboard_expressions()
    assert len(expressions) >= 8
    for expr, legend in expressions:
        metrics = {m for m in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{", expr) if m not in PROMQL_WORDS}
        assert metrics, expr
        labels = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", expr))
        for group in re.findall(r"\bby\s*\(([^)]*)\)", expr):
            labels |= {name.strip() for name in group.split(",")}
        labels |= set(re.findall(r"\{\{\s*(\w+)\s*\}\}", legend))
        for metric in metrics:
            path = "/api/v1/series?match[]=" + urllib.parse.quote(metric + '{job="' + APP + '"}')
            series = wait_for(lambda path=path: prometheus(path), timeout=20)
            assert series, f"{metric} (in {expr!r}) is not among Prometheus's series"
            have = set().union(*(s.keys() for s in series))
            # "le" of a histogram is on the _bucket series only; every name must be on one.
            assert labels <= have, f"{expr!r}: labels {sorted(labels - have)} not on {metric}'s series"
        # And the whole expression is valid PromQL for this Prometheus.
        prometheus(f"/api/v1/query?query={urllib.parse.quote(expr)}")


def test_rules_pass_promtool_and_are_loaded(host, prometheus):
    # The app's own rules, and the one of every target (whichever app listed it).
    for rules, count in ((f"{APP}.rules.yml", 7), ("_targets.rules.yml", 1)):
        check = host.run(f"promtool check rules /etc/prometheus/rules/{rules}")
        assert check.rc == 0, check.stdout + check.stderr
        assert f"{count} rules found" in check.stdout
    names = {r["name"] for g in prometheus("/api/v1/rules")["groups"] for r in g["rules"]}
    assert names == {
        "TargetDown",
        "AppHigh5xxRatio",
        "AppHighLatencyP99",
        "AppMemoryNearLimit",
        "AppRestartLoop",
        "SiteDown",
        "CertificateExpiringSoon",
        "AppVersionMismatch",
    }


def test_every_alert_fires_on_bad_series_only(host):
    """promtool's rule unit tests (rules_test.yml) against the rules as deployed."""
    tests = base64.b64encode((Path(__file__).parent / "rules_test.yml").read_bytes()).decode()
    host.run_expect([0], f"echo {tests} | base64 -d > /tmp/rules_test.yml")
    result = host.run("promtool test rules /tmp/rules_test.yml")
    assert result.rc == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_rollback_points_the_version_probe_at_the_release_it_switched_to(host, prometheus, tmp_path):
    """rollback.yml re-renders the version the probe expects: AppVersionMismatch does not stay pending."""
    version = json.loads(curl(host, "http://127.0.0.1:8082/health")[1])["version"]
    blackbox = host.file("/etc/prometheus/blackbox.yml").content_string
    expected = re.escape(version) + '"'
    assert expected in blackbox
    # An expectation another release left (a deploy of another version): the probe fails.
    stale = base64.b64encode(blackbox.replace(expected, 'stale-0"').encode()).decode()
    host.run_expect([0], f"echo {stale} | base64 -d > /etc/prometheus/blackbox.yml")
    host.run_expect([0], "systemctl reload prometheus-blackbox-exporter.service")

    def mismatch() -> str | None:
        for alert in alerts(prometheus):
            if alert["labels"]["alertname"] == "AppVersionMismatch":
                return alert["state"]
        return None

    assert wait_for(lambda: mismatch() == "pending", timeout=30), alerts(prometheus)
    back = run_playbook(host, tmp_path, {}, "rollback.yml", "-e", f"app_rollback_version={version}")
    assert back.returncode == 0, back.stdout[-3000:]
    assert expected in host.file("/etc/prometheus/blackbox.yml").content_string
    query = urllib.parse.quote(f'probe_success{{job="{APP}-version"}}')
    assert wait_for(
        lambda: [float(r["value"][1]) for r in prometheus(f"/api/v1/query?query={query}")["result"]] == [1.0],
        timeout=30,
    )
    assert wait_for(lambda: mismatch() is None, timeout=30), alerts(prometheus)


def test_a_code_only_release_points_the_version_probe_at_the_new_release(host, prometheus, tmp_path):
    """The code-only release of docs/releases.md (--tags release) runs none of Prometheus's tasks but
    the version probe's: it expects the new release, and AppVersionMismatch does not stay pending."""
    serving = json.loads(curl(host, "http://127.0.0.1:8082/health")[1])["version"]
    version = serving.split(".post")[0] + ".post77"
    source = app_variant(tmp_path / "app", version)
    config = host.file("/etc/prometheus/prometheus.yml").content_string
    result = run_deploy(host, tmp_path, {"app_source_dir": str(source)}, "--tags", "release")
    assert result.returncode == 0, result.stdout[-3000:]
    assert json.loads(curl(host, "http://127.0.0.1:8082/health")[1])["version"] == version
    assert re.escape(version) + '"' in host.file("/etc/prometheus/blackbox.yml").content_string
    # Only the version module: the rest of the monitoring host is as the full deploy left it.
    assert host.file("/etc/prometheus/prometheus.yml").content_string == config
    query = urllib.parse.quote(f'probe_success{{job="{APP}-version"}}')
    assert wait_for(
        lambda: [float(r["value"][1]) for r in prometheus(f"/api/v1/query?query={query}")["result"]] == [1.0],
        timeout=30,
    )

    # Pending at most for the seconds between the switch and the probe's new expectation.
    def mismatch() -> bool:
        return any(a["labels"]["alertname"] == "AppVersionMismatch" for a in alerts(prometheus))

    assert wait_for(lambda: not mismatch(), timeout=30), alerts(prometheus)

    # The probes rendered alone (--tags blackbox) keep the version module: that run reads the
    # app's `current` link as a whole deploy does (it used to render the file without it).
    probes = host.file("/etc/prometheus/blackbox.yml").content_string
    again = run_deploy(host, tmp_path, {"app_source_dir": str(source)}, "--tags", "blackbox")
    assert again.returncode == 0, again.stdout[-3000:]
    assert host.file("/etc/prometheus/blackbox.yml").content_string == probes


def test_target_down_fires_when_the_app_stops_and_resolves_when_back(host, prometheus):
    def app_down_alert() -> str | None:
        for alert in prometheus("/api/v1/alerts")["alerts"]:
            if alert["labels"]["alertname"] == "TargetDown" and alert["labels"]["job"] == APP:
                return alert["state"]
        return None

    assert app_down_alert() is None
    # Both units: with the socket still listening, the next scrape would start the app again.
    host.run_expect([0], f"systemctl stop {APP}.socket {APP}.service")
    try:
        assert wait_for(lambda: app_down_alert() == "firing", timeout=60), app_down_alert()
    finally:
        host.run_expect([0], f"systemctl start {APP}.socket {APP}.service")
    assert wait_for(lambda: app_is_healthy(host), timeout=15)
    assert wait_for(lambda: app_down_alert() is None, timeout=60), app_down_alert()
