"""Logs in journald mode: JSON lines from the app, JSON lines from nginx, one request id across both."""

from __future__ import annotations

import re

from helpers import APP, main_pid, wait_for
from logs import (
    NGINX_ACCESS_LOG,
    assert_access_entry,
    assert_base_fields,
    by_path,
    json_lines,
    lines_with,
    marker,
    send,
)

SECRET = "molecule-secret-7c1f04d9"  # inventory/group_vars/app.yml: app_environment


def journal(host, *selectors: str) -> str:
    return host.check_output("journalctl --no-pager --output=cat" + " %s" * len(selectors), *selectors)


def test_every_request_has_one_json_access_line_matching_nginx_by_request_id(host):
    mark = marker()
    agent = f"logging-test/{mark}"
    ok_paths = [f"/items/{mark}{i}" for i in range(4)]
    bad_path = f"/items/not-a-number-{mark}"
    assert send(host, [*ok_paths, bad_path], agent, tls=True) == [200] * 4 + [422]
    # From the container's own address too: the app must log nginx's client, not a constant.
    own_ip = host.check_output('getent ahostsv4 "$(cat /etc/hostname)" | head -1').split()[0]
    assert not own_ip.startswith("127."), own_ip
    remote_path = f"/items/{mark}9"
    assert send(host, [remote_path], agent, tls=True, connect_to=own_ip) == [200]
    expected = {path: (200, "127.0.0.1") for path in ok_paths}
    expected[bad_path] = (422, "127.0.0.1")
    expected[remote_path] = (200, own_ip)

    def app_lines() -> list[dict]:
        entries = lines_with(journal(host, "--unit", APP), agent)
        return entries if len(entries) >= len(expected) else []

    entries = wait_for(app_lines, timeout=10)
    app_by_path = by_path(entries)
    assert sorted(app_by_path) == sorted(expected), entries

    # nginx buffers its access log (nginx_access_log_flush: 1s).
    def nginx_lines() -> list[dict]:
        entries = lines_with(host.file(NGINX_ACCESS_LOG).content_string, agent)
        return entries if len(entries) >= len(expected) else []

    nginx_by_uri = by_path(wait_for(nginx_lines, timeout=5), key="uri")
    assert sorted(nginx_by_uri) == sorted(expected)
    for path, (status, client) in expected.items():
        [entry] = app_by_path[path]  # exactly one line per request
        assert_access_entry(entry, path, status, agent, client)
        [nginx] = nginx_by_uri[path]
        assert nginx["request_id"] == entry["request_id"], (nginx, entry)
        assert (nginx["status"], nginx["client_ip"], nginx["user_agent"]) == (status, client, agent)
        assert nginx["upstream_response_time"] not in ("", "-"), nginx
        assert nginx["upstream_addr"] == f"unix:/run/{APP}.sock", nginx
    assert len({e["request_id"] for e in entries}) == len(expected)


def test_every_line_the_service_wrote_since_its_start_is_json(host):
    invocation = host.check_output(f"systemctl show --property=InvocationID --value {APP}.service")
    text = journal(host, f"_SYSTEMD_INVOCATION_ID={invocation}")
    # Starting the service logs at least the master's and each worker's boot lines.
    entries = json_lines(text)
    assert len(entries) >= 2, text
    for entry in entries:
        assert_base_fields(entry)
    loggers = {entry["logger"] for entry in entries}
    assert "gunicorn.error" in loggers, loggers
    master = main_pid(host, f"{APP}.service")
    assert any(e["pid"] == master and "Listening at" in e["message"] for e in entries), text[-2000:]


def test_secrets_reach_the_app_but_no_log(host):
    # The secret is in the service's environment (so it could leak) ...
    environ = host.check_output(f"tr '\\0' '\\n' < /proc/{main_pid(host, f'{APP}.service')}/environ")
    assert f"APP_SECRET_TOKEN={SECRET}" in environ
    # ... and in no line of the journal, of nginx's logs, or of any file log.
    assert host.run("journalctl --no-pager --output=verbose | grep -F %s", SECRET).rc == 1
    assert host.run("grep -rF %s /var/log/", SECRET).rc == 1


def test_journald_runs_with_the_configured_retention(host):
    # journald reports its limit when it (re)starts: the last report is the live one.
    reports = [
        line
        for line in journal(host, "--unit", "systemd-journald", "--boot").splitlines()
        if line.startswith(("System Journal", "Runtime Journal"))
    ]
    assert reports, "journald reported no journal size"
    assert reports[-1].startswith("System Journal"), reports[-1]
    assert re.search(r", max 1(\.0)?G,", reports[-1]), reports[-1]


def test_a_burst_above_journalds_default_rate_limit_keeps_every_access_line(host):
    # journald's default for a unit without a limit of its own is 10000 lines per 30 s,
    # scaled up with the free disk space (x5 at 75 GB free, x5.75 at 1 TB): 60,000
    # requests in about 11 s exceed it on any disk this runs on.
    requests = 60_000
    agent = f"burst-test/{marker()}"
    since = host.check_output("date +%s")
    # nginx closes a connection after keepalive_requests (1000); h2load opens no new one.
    report = host.check_output(
        "h2load --requests=%s --clients=64 --max-concurrent-streams=4 --header=%s %s",
        str(requests),
        f"user-agent: {agent}",
        "https://localhost/health",
    )
    assert f"status codes: {requests} 2xx" in report, report

    def logged() -> int:
        count = host.run(
            "journalctl --no-pager --output=cat --unit %s --since=@%s | grep --count --fixed-strings %s",
            APP,
            since,
            f'"user_agent": "{agent}"',
        )
        return int(count.stdout.strip() or 0)

    assert wait_for(lambda: logged() == requests, timeout=30, interval=1), (
        f"{logged()} of {requests} access lines in the journal"
    )
    suppressed = journal(host, "--unit", "systemd-journald", f"--since=@{since}")
    assert f"messages from {APP}.service" not in suppressed, suppressed
