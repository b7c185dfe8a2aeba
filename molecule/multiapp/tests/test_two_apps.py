"""Two apps on one host (converge.yml): each has its own everything, and neither disturbs the other."""

from __future__ import annotations

import pytest

from helpers import children, http_get, load_during, process_tree, settled, wait_for
from logs import lines_with, marker, send

# app_name -> its server name (converge.yml)
APPS = {"shop-api": "shop.test", "blog-api": "blog.test"}
# app_name -> its site's loopback metrics port (converge.yml)
METRICS_PORTS = {"shop-api": 8082, "blog-api": 8083}
WORKERS = 2  # molecule.yml


def other(app: str) -> str:
    [name] = set(APPS) - {app}
    return name


def health(host, app: str, unix_socket: bool = False) -> int:
    if unix_socket:
        return http_get(host, "http://localhost/health", unix_socket=f"/run/{app}.sock").status
    return http_get(host, "http://localhost/health", host_header=APPS[app]).status


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
    paths = ["/items/1", "/items/2", "/health"]
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
    host.check_output(f"curl -sf --user-agent {agent} http://127.0.0.1:{METRICS_PORTS[app]}/health")

    def logged(name: str) -> list[str]:
        log = host.file(f"/var/log/{name}/access.log").content_string
        return [entry["path"] for entry in lines_with(log, agent)]

    assert wait_for(lambda: logged(app) == ["/health"], timeout=10)
    assert logged(other(app)) == []


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
