"""The deployed app, asserted through systemd, the process tree and real HTTP."""

from __future__ import annotations

import time

import pytest

from helpers import APP, CA, SOCKET, children, main_pid, wait_for

WORKERS = 3  # default/inventory/group_vars/app.yml sets app_workers: 3


def test_socket_and_service_are_enabled_and_active(host):
    for unit in (f"{APP}.socket", f"{APP}.service"):
        service = host.service(unit)
        assert service.is_enabled, unit
        assert service.is_running, unit


def test_service_unit_properties(host):
    props = host.service(f"{APP}.service").systemd_properties
    assert props["Type"] == "notify"
    assert props["User"] == APP
    assert props["KillMode"] == "mixed"
    assert props["Restart"] == "on-failure"
    assert props["ProtectSystem"] == "strict"
    assert props["NoNewPrivileges"] == "yes"
    assert f"{APP}.socket" in props["Requires"]


def test_master_runs_configured_uvicorn_workers_as_app_user(host):
    master = main_pid(host, f"{APP}.service")
    assert master > 0
    assert host.check_output(f"ps -o user:32= -p {master}").strip() == APP
    assert "gunicorn" in host.check_output(f"ps -o args= -p {master}")
    workers = children(host, master)
    assert len(workers) == WORKERS, workers
    assert {user for _, user, _ in workers} == {APP}
    # Each worker is a UvicornWorker: uvloop and httptools are mapped in.
    for pid, _, _ in workers:
        maps = host.check_output(f"cat /proc/{pid}/maps")
        assert "uvloop" in maps, pid
        assert "httptools" in maps, pid


def test_socket_listens_and_only_nginx_group_may_connect(host):
    assert host.socket(f"unix://{SOCKET}").is_listening
    sock = host.file(SOCKET)
    assert sock.is_socket
    assert (sock.user, sock.group, sock.mode) == ("root", "www-data", 0o660)
    # The app's own user is not in www-data, so even it cannot connect.
    denied = host.run(f"runuser -u {APP} -- curl -s --unix-socket {SOCKET} http://localhost/health")
    assert denied.rc != 0


def test_app_answers_on_its_socket_as_uvicorn(get):
    response = get("http://localhost/health", unix_socket=SOCKET)
    assert response.status == 200
    assert response.headers["server"] == "uvicorn"


def test_nginx_active_and_config_valid(host):
    assert host.service("nginx").is_running
    assert host.service("nginx").is_enabled
    assert host.run("nginx -t").rc == 0
    assert not host.file("/etc/nginx/sites-enabled/default").exists


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/", 200, {"message": "Hello from FastAPI!"}),
        ("/items/42", 200, {"item_id": 42, "message": "This is an item"}),
    ],
)
def test_endpoints_through_nginx(get, path, status, body):
    response = get(f"https://localhost{path}")
    assert response.status == status
    assert response.json() == body
    assert response.headers["server"] == "nginx"


def test_non_integer_item_is_422_through_nginx(get):
    response = get("https://localhost/items/abc")
    assert response.status == 422
    assert response.json()["detail"][0]["loc"] == ["path", "item_id"]


def test_health_through_nginx_reports_version(host, get):
    response = get("https://localhost/health")
    assert response.status == 200
    installed = host.check_output(
        f"/opt/{APP}/current/venv/bin/python -c 'import importlib.metadata as m; print(m.version(\"{APP}\"))'"
    )
    assert response.json() == {"status": "ok", "version": installed}


def test_restart_gives_new_master_and_health_within_10s(host, get):
    before = main_pid(host, f"{APP}.service")
    host.run_expect([0], f"systemctl restart {APP}.service")
    after = main_pid(host, f"{APP}.service")
    assert after not in (0, before)

    def healthy() -> bool:
        return host.run(f"curl -sf --max-time 1 --cacert {CA} https://localhost/health").rc == 0

    assert wait_for(healthy, timeout=10), "no 200 from /health within 10 s of the restart"
    assert len(children(host, after)) == WORKERS


def test_rendered_files_owner_and_mode(host):
    expected = {
        f"/etc/{APP}/gunicorn.conf.py": ("root", APP, 0o640),
        f"/etc/{APP}/{APP}.env": ("root", APP, 0o640),
        f"/etc/systemd/system/{APP}.service": ("root", "root", 0o644),
        f"/etc/systemd/system/{APP}.socket": ("root", "root", 0o644),
        f"/etc/nginx/sites-available/{APP}.conf": ("root", "root", 0o644),
        f"/etc/logrotate.d/nginx-{APP}": ("root", "root", 0o644),
    }
    for path, (user, group, mode) in expected.items():
        f = host.file(path)
        assert (f.user, f.group, f.mode) == (user, group, mode), path
        assert "Ansible managed" in f.content_string, path


def test_app_user_is_a_locked_system_account(host):
    user = host.user(APP)
    assert user.shell == "/usr/sbin/nologin"
    assert user.uid < 1000
    assert "www-data" not in user.groups


def test_logrotate_accepts_rules(host):
    result = host.run(f"logrotate --debug /etc/logrotate.d/nginx-{APP}")
    assert result.rc == 0, result.stderr
    assert f"/var/log/nginx/{APP}/*.log" in result.stderr


def test_forced_rotation_moves_lines_and_nginx_reopens(host, get):
    log = f"/var/log/nginx/{APP}/access.log"
    # Ids unique to this run, so the test can run again on the same host.
    before, after = (f"/items/{time.time_ns() + i}" for i in (0, 1))
    get(f"https://localhost{before}")
    host.run_expect([0], f"logrotate --force /etc/logrotate.d/nginx-{APP}")

    # The buffered line reaches the rotated file when nginx reopens its logs
    # (USR1 from the rule's postrotate; the workers flush, then reopen).
    def flushed_to_rotated() -> bool:
        return before in host.file(f"{log}.1").content_string

    assert wait_for(flushed_to_rotated, timeout=5), "the line before the rotation is not in the rotated file"
    get(f"https://localhost{after}")

    def reopened() -> bool:
        return after in host.file(log).content_string

    assert wait_for(reopened, timeout=5), "nginx kept writing to the rotated file"
    assert after not in host.file(f"{log}.1").content_string
