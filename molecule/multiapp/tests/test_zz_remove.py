"""playbooks/remove.yml takes one app off the host and leaves the other serving.

Destructive: the module's name sorts it after test_two_apps.py, so it runs last in verify.
"""

from __future__ import annotations

import re

import pytest

from helpers import http_get, main_pid, prometheus_api, unhealthy_targets, wait_for
from playbook import ansible_playbook

REMOVED, KEPT = "blog-api", "shop-api"
SERVER_NAMES = {"shop-api": "shop.test", "blog-api": "blog.test"}  # converge.yml
DATA = f"/opt/{REMOVED}/shared"  # app_shared_dir's default
KEPT_JOBS = {KEPT, f"{KEPT}-site", f"{KEPT}-version"}


def recap_changed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output.split("PLAY RECAP")[-1]))


@pytest.fixture(scope="module")
def removal(host):
    """The kept app's master PID before, and the removal's run (its data directory holding a file)."""
    host.check_output(f"echo kept > {DATA}/note.txt && chown {REMOVED}: {DATA}/note.txt")
    before = main_pid(host, f"{KEPT}.service")
    assert before
    run = ansible_playbook("remove.yml", "--extra-vars", f"app_name={REMOVED}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return before, run


def test_nothing_of_the_removed_app_is_left_but_its_data(host, removal):
    for unit in (f"{REMOVED}.service", f"{REMOVED}.socket"):
        assert host.check_output(f"systemctl show --property=LoadState --value {unit}") == "not-found"
    assert not host.user(REMOVED).exists
    assert not host.group(REMOVED).exists
    # Of app_home, only the data directory; it and its files now root's (the UID is free).
    assert host.check_output(f"ls -A /opt/{REMOVED}").split() == ["shared"]
    note = host.file(f"{DATA}/note.txt")
    assert note.content_string == "kept\n"
    assert (note.user, note.group, host.file(DATA).user) == ("root", "root", "root")
    gone = [
        f"/run/{REMOVED}.sock",
        f"/etc/{REMOVED}",
        f"/var/log/{REMOVED}",
        f"/etc/systemd/system/{REMOVED}.service",
        f"/etc/systemd/system/{REMOVED}.socket",
        f"/etc/systemd/journald.conf.d/{REMOVED}.conf",
        f"/etc/nginx/sites-enabled/{REMOVED}.conf",
        f"/etc/nginx/sites-available/{REMOVED}.conf",
        f"/etc/nginx/snippets/{REMOVED}",
        f"/etc/nginx/conf.d/{REMOVED}-log-format.conf",
        f"/etc/nginx/conf.d/{REMOVED}-maintenance.conf",
        f"/var/log/nginx/{REMOVED}",
        f"/var/www/{REMOVED}",
        f"/etc/logrotate.d/{REMOVED}",
        f"/etc/logrotate.d/nginx-{REMOVED}",
        f"/etc/prometheus/targets/{REMOVED}.yml",
        f"/etc/prometheus/rules/{REMOVED}.rules.yml",
    ]
    assert [path for path in gone if host.file(path).exists] == []
    # Nothing else on the host names it: nginx's whole configuration, the probes, the node exporter's units.
    assert REMOVED not in host.check_output("nginx -T 2>/dev/null")
    assert REMOVED not in host.file("/etc/prometheus/blackbox.yml").content_string
    assert REMOVED not in host.file("/etc/default/prometheus-node-exporter").content_string
    # Its server name reaches no app: the catch-all closes the connection.
    assert host.run(f"curl -s --max-time 5 -H 'Host: {SERVER_NAMES[REMOVED]}' http://localhost/").rc != 0
    # The kept app's files are all there.
    assert host.file(f"/etc/nginx/sites-enabled/{KEPT}.conf").is_symlink
    assert host.file(f"/etc/logrotate.d/{KEPT}").exists


def test_the_other_app_serves_on_with_the_same_processes_and_targets(host, removal):
    before, _ = removal
    reply = http_get(host, "http://localhost/health", host_header=SERVER_NAMES[KEPT])
    assert reply.status == 200, reply
    assert main_pid(host, f"{KEPT}.service") == before

    def jobs() -> set[str]:
        return {t["labels"]["job"] for t in prometheus_api(host, "/api/v1/targets")["activeTargets"]}

    # Prometheus drops a removed targets file by itself; the kept app's targets stay, all up.
    assert wait_for(lambda: not any(job.startswith(REMOVED) for job in jobs()), timeout=20), jobs()
    assert jobs() >= KEPT_JOBS
    assert wait_for(lambda: not unhealthy_targets(host), timeout=20), unhealthy_targets(host)
    rules = {g["name"] for g in prometheus_api(host, "/api/v1/rules")["groups"]}
    assert rules == {"targets", KEPT}


def test_the_audit_log_records_the_removal(host, removal):
    last = host.check_output(f"tail -n 1 /var/lib/fastapi-deploy/{REMOVED}.audit.jsonl")
    assert '"action": "remove"' in last, last
    assert '"result": "ok"' in last, last
    assert not host.file(f"/var/lib/fastapi-deploy/{REMOVED}.lock").exists


def test_again_with_app_remove_data_removes_only_the_data(host, removal):
    run = ansible_playbook("remove.yml", "--extra-vars", f"app_name={REMOVED} app_remove_data=true")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert not host.file(f"/opt/{REMOVED}").exists
    # Everything else was gone already: app_home is the one change.
    assert recap_changed(run.stdout) == 1, run.stdout[-3000:]
    assert http_get(host, "http://localhost/health", host_header=SERVER_NAMES[KEPT]).status == 200


def test_no_app_named_is_refused_before_the_host_changes(host):
    run = ansible_playbook("remove.yml")
    assert run.returncode != 0
    # The failure's line: on standard error or output, as the callback puts it.
    line = 'app_name="": name the app to remove with -e app_name=<name>'
    assert line in run.stdout + run.stderr, run.stderr
    assert host.file(f"/etc/nginx/sites-enabled/{KEPT}.conf").is_symlink
