"""Two apps on one host (converge.yml): each has its own everything, and neither disturbs the other."""

from __future__ import annotations

import ast
import json
import time
import tomllib
import urllib.parse
from pathlib import Path

import pytest
import yaml

from helpers import (
    active_alerts,
    children,
    http_get,
    load_during,
    process_tree,
    prometheus_api,
    settled,
    unhealthy_targets,
    wait_for,
)
from logs import lines_with, marker, send
from playbook import run_deploy

# app_name -> its server name (converge.yml)
APPS = {"shop-api": "shop.test", "blog-api": "blog.test"}
# app_name -> its site's loopback metrics port (converge.yml)
METRICS_PORTS = {"shop-api": 8082, "blog-api": 8083}
WORKERS = 2  # molecule.yml
# app_name -> its health check path (converge.yml: the blog's is app_health_path /healthz)
HEALTH = {"shop-api": "/health", "blog-api": "/healthz"}
# app_name -> paths its app answers with 200. The shop is the demo app; the blog is
# examples/blog, a plain Starlette app whose health check is the deployment's (app_health_builtin).
PATHS = {
    "shop-api": ["/items/1", "/items/2", "/health"],
    "blog-api": ["/posts/hello", "/posts/deploys", "/healthz"],
}
BLOG_SOURCE = Path(__file__).resolve().parents[3] / "examples" / "blog"


def other(app: str) -> str:
    [name] = set(APPS) - {app}
    return name


def health(host, app: str, unix_socket: bool = False) -> int:
    if unix_socket:
        return http_get(host, f"http://localhost{HEALTH[app]}", unix_socket=f"/run/{app}.sock").status
    return http_get(host, f"http://localhost{HEALTH[app]}", host_header=APPS[app]).status


def test_one_prometheus_watches_both_apps_every_target_up_and_no_alert(host):
    """Each app's deploy added its own targets, rules and probes; the second left the first's alone."""
    kinds = ("", "-site", "-version")
    # The blog's health gate does not check the version (converge.yml): no version probe for it.
    jobs = {"prometheus", "node", "nginx"} | {f"{app}{kind}" for app in APPS for kind in kinds}
    jobs.remove("blog-api-version")

    def targets() -> list[dict]:
        return prometheus_api(host, "/api/v1/targets")["activeTargets"]

    def all_up() -> bool:
        found = targets()
        return {t["labels"]["job"] for t in found} == jobs and not unhealthy_targets(host)

    assert wait_for(all_up, timeout=60), (
        sorted({t["labels"]["job"] for t in targets()}),
        unhealthy_targets(host),
    )
    by_job: dict[str, list[dict]] = {}
    for target in targets():
        by_job.setdefault(target["labels"]["job"], []).append(target)
    # One node and one nginx exporter, though both apps list them.
    assert len(by_job["node"]) == len(by_job["nginx"]) == 1
    for app in APPS:
        # Each app on its own site's loopback metrics port, each site probed by its own server name.
        assert [t["scrapeUrl"] for t in by_job[app]] == [f"http://127.0.0.1:{METRICS_PORTS[app]}/metrics"]
        # Each app's own health check path, on the site and on its metrics port.
        assert [t["labels"]["instance"] for t in by_job[f"{app}-site"]] == [
            f"http://{APPS[app]}{HEALTH[app]}"
        ]
        if app == "shop-api":
            assert [t["labels"]["instance"] for t in by_job[f"{app}-version"]] == [
                f"http://127.0.0.1:{METRICS_PORTS[app]}{HEALTH[app]}"
            ]
        # The node exporter reports both apps' units (each deploy added its own). (host=~".+":
        # not the series of the package's default config, before the role's.)
        query = f'node_systemd_unit_state{{name="{app}.service",state="active",job="node",host=~".+"}}'
        path = "/api/v1/query?query=" + urllib.parse.quote(query)
        result = wait_for(lambda path=path: prometheus_api(host, path)["result"], timeout=20)
        assert [float(r["value"][1]) for r in result] == [1.0], result
    rules = {g["name"] for g in prometheus_api(host, "/api/v1/rules")["groups"]}
    assert rules == {"targets", *APPS}
    # Nor a module expecting a version of it.
    modules = yaml.safe_load(host.file("/etc/prometheus/blackbox.yml").content_string)["modules"]
    assert sorted(modules) == ["blog-api_site", "shop-api_site", "shop-api_version"]
    # Nothing pending or firing, over several evaluations (every 2 s here).
    for _ in range(4):
        assert active_alerts(host) == []
        time.sleep(2)


@pytest.mark.parametrize("app", APPS)
def test_each_app_runs_as_its_own_user_from_its_own_home(host, app):
    master = settled(host, f"{app}.service", WORKERS)
    rows = children(host, master)
    user, args = host.check_output(f"ps -o user:32=,args= -p {master}").split(None, 1)
    assert user == app
    assert f"/opt/{app}/" in args, args
    assert {row[1] for row in rows} == {app}
    assert all(f"/opt/{app}/" in row[2] for row in rows), rows
    assert host.user(app).home == f"/opt/{app}"
    assert host.socket(f"unix:///run/{app}.sock").is_listening
    sock = host.file(f"/run/{app}.sock")
    assert (sock.user, sock.group) == ("root", "www-data")
    assert host.file(f"/etc/nginx/sites-enabled/{app}.conf").is_symlink
    assert host.file(f"/etc/logrotate.d/{app}").contains(f"/var/log/{app}/")


@pytest.mark.parametrize("app", APPS)
def test_each_server_name_reaches_only_its_own_app_and_logs(host, app):
    agent = f"multiapp-test/{marker()}"
    paths = PATHS[app]
    assert send(host, paths, agent, server_name=APPS[app]) == [200, 200, 200]

    def logged(log: str, key: str = "path") -> list[str]:
        return [entry[key] for entry in lines_with(host.file(log).content_string, agent)]

    assert wait_for(lambda: logged(f"/var/log/{app}/access.log") == paths, timeout=10)
    # nginx buffers its access log (nginx_access_log_flush: 1s).
    assert wait_for(lambda: logged(f"/var/log/nginx/{app}/access.log", "uri") == paths, timeout=5)
    assert set(logged(f"/var/log/nginx/{app}/access.log", "upstream_addr")) == {f"unix:/run/{app}.sock"}
    peer = other(app)
    assert logged(f"/var/log/{peer}/access.log") == []
    assert logged(f"/var/log/nginx/{peer}/access.log", "uri") == []


@pytest.mark.parametrize("app", APPS)
def test_each_sites_loopback_metrics_port_reaches_only_its_own_app(host, app):
    agent = f"multiapp-test/{marker()}"
    host.check_output(f"curl -sf --user-agent {agent} http://127.0.0.1:{METRICS_PORTS[app]}{HEALTH[app]}")
    # The other app's health path is not served there.
    assert host.run(f"curl -sf http://127.0.0.1:{METRICS_PORTS[app]}{HEALTH[other(app)]}").rc != 0

    def logged(name: str) -> list[str]:
        log = host.file(f"/var/log/{name}/access.log").content_string
        return [entry["path"] for entry in lines_with(log, agent)]

    assert wait_for(lambda: logged(app) == [HEALTH[app]], timeout=10)
    assert logged(other(app)) == []


def blog_requests(host, route: str, status: str) -> float:
    query = f'sum(http_requests_total{{job="blog-api",route="{route}",status="{status}"}})'
    result = prometheus_api(host, "/api/v1/query?query=" + urllib.parse.quote(query))["result"]
    return float(result[0]["value"][1]) if result else 0.0


def test_the_plain_starlette_app_is_observed_with_no_code_of_its_own(host):
    """examples/blog has no health check, metrics or logging code: the deployment gives it all three."""
    tree = ast.parse((BLOG_SOURCE / "blog" / "main.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    assert {name.split(".")[0] for name in imported} == {"starlette"}, imported
    routes = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Route"
    ]
    assert routes == ["/", "/posts/{slug}"], routes
    version = tomllib.loads((BLOG_SOURCE / "pyproject.toml").read_text())["project"]["version"]
    # The health gate's answer comes from the workers (the deploy waited for this version).
    reply = http_get(host, "http://localhost/healthz", host_header="blog.test")
    assert (reply.status, json.loads(reply.body)) == (200, {"status": "ok", "version": version})

    before_ok = blog_requests(host, "/posts/{slug}", "200")
    before_missing = blog_requests(host, "/posts/{slug}", "404")
    agent = f"multiapp-test/{marker()}"
    paths = ["/posts/hello", "/posts/deploys", "/posts/nope"]
    assert send(host, paths, agent, server_name="blog.test") == [200, 200, 404]
    # Counted by route template, through a scrape of the blog's /metrics (every 2 s here).
    assert wait_for(
        lambda: (
            (blog_requests(host, "/posts/{slug}", "200"), blog_requests(host, "/posts/{slug}", "404"))
            == (before_ok + 2, before_missing + 1)
        ),
        timeout=20,
    ), (blog_requests(host, "/posts/{slug}", "200"), blog_requests(host, "/posts/{slug}", "404"))
    series = prometheus_api(
        host, "/api/v1/series?match[]=" + urllib.parse.quote('http_requests_total{job="blog-api"}')
    )
    assert not [s for s in series if s["route"].startswith("/posts/") and s["route"] != "/posts/{slug}"], (
        series
    )

    # One JSON access line per request in the app's log, with nginx's request id.
    def pairs() -> list[tuple[str, str]]:
        app_lines = lines_with(host.file("/var/log/blog-api/access.log").content_string, agent)
        nginx_lines = lines_with(host.file("/var/log/nginx/blog-api/access.log").content_string, agent)
        return sorted((e["path"], e["request_id"]) for e in app_lines), sorted(
            (e["uri"], e["request_id"]) for e in nginx_lines
        )

    assert wait_for(lambda: len(pairs()[0]) == len(pairs()[1]) == 3, timeout=10), pairs()
    app_side, nginx_side = pairs()
    assert app_side == nginx_side
    assert len({request_id for _, request_id in app_side}) == 3


def test_a_stopped_app_fails_alone_and_the_other_serves_without_a_failure(host):
    before = process_tree(host, "blog-api.service")
    try:
        result = load_during(
            host,
            "systemctl stop shop-api.socket shop-api.service",
            seconds=5,
            delay=2,
            host_header="blog.test",
            # Well below app_max_requests per worker: a recycled worker is no disturbance.
            rate=25,
        )
        assert host.run("systemctl is-active shop-api.service").stdout.strip() == "inactive"
        assert health(host, "shop-api") == 502
        assert health(host, "blog-api") == 200
    finally:
        host.run_expect([0], "systemctl start shop-api.socket shop-api.service")
    assert result.ok > 500, result
    assert result.failed == 0, result
    assert process_tree(host, "blog-api.service") == before
    settled(host, "shop-api.service", WORKERS)
    assert wait_for(lambda: health(host, "shop-api", unix_socket=True) == 200, timeout=20)


def test_restarting_one_app_leaves_the_others_processes_alone(host):
    settled(host, "shop-api.service", WORKERS)
    before = process_tree(host, "blog-api.service")
    shop = process_tree(host, "shop-api.service")
    host.run_expect([0], "systemctl restart shop-api.service")
    assert settled(host, "shop-api.service", WORKERS) != shop[0]
    assert process_tree(host, "blog-api.service") == before


def test_rotating_one_apps_logs_leaves_the_others_files_and_processes(host):
    blog_log = host.file("/var/log/blog-api/access.log")
    blog_inode = host.check_output("stat -c %i /var/log/blog-api/access.log")
    shop_inode = host.check_output("stat -c %i /var/log/shop-api/access.log")
    assert blog_log.exists
    before = process_tree(host, "blog-api.service")
    shop = process_tree(host, "shop-api.service")
    host.run_expect([0], "logrotate --force /etc/logrotate.d/shop-api")
    assert host.check_output("stat -c %i /var/log/shop-api/access.log") != shop_inode
    assert host.check_output("stat -c %i /var/log/blog-api/access.log") == blog_inode
    assert process_tree(host, "blog-api.service") == before
    # USR1 reopened the shop's files without replacing a process.
    assert process_tree(host, "shop-api.service") == shop


def test_a_third_app_on_another_sites_metrics_port_is_refused_before_the_host_changes(host, tmp_path):
    """Its loopback port would answer with the shop's metrics: the first play refuses it, naming both."""
    before = host.check_output("ls /etc/nginx/sites-enabled /etc/prometheus/targets | sha256sum")
    third = {
        "app_name": "news-api",
        "nginx_server_names": ["news.test"],
        "nginx_metrics_port": METRICS_PORTS["shop-api"],
    }
    result = run_deploy(host, tmp_path, third)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output[-3000:]
    line = (
        "nginx_metrics_port must be a port no other site on this host listens on for its metrics "
        '(they have {"blog-api": "8083", "shop-api": "8082"}) (got 8082)'
    )
    assert line in output, output[-3000:]
    assert "changed=0" in output, output[-3000:]
    assert not host.user("news-api").exists
    assert host.check_output("ls /etc/nginx/sites-enabled /etc/prometheus/targets | sha256sum") == before
