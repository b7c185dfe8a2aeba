"""The central log, with the web host as the log host (logs role): a request followed across hosts by its id,
every host's audit and unit lines, nothing lost while the log host's receiver is down under load (LogsSilent
fires meanwhile, then clears), no push without a certificate of the log CA, the disk budget.

Runs after test_cluster.py (file order): the deployment as it left it, both app hosts serving.
"""

from __future__ import annotations

import json
import re
import time
import uuid

from cluster import APP, address, load, name
from helpers import active_alerts, wait_for
from playbook import ansible_playbook

RECEIVED = "/var/log/journal/remote"
NGINX_SOURCE = f"nginx-{APP}"
# An archived journal file's name: remote@<seqnum id>-<first seqnum>-<first time>.journal.
ARCHIVED = "remote@00000000000000000000000000000001"
RECEIVER_UNITS = "logs-receiver-tls.service systemd-journal-remote.socket systemd-journal-remote.service"


def search(web, *args: str) -> list[dict]:
    """logs-search on the log host, every line found (JSON records: time, host, source, unit, message)."""
    out = web.check_output("logs-search --output json --lines 0" + " %s" * len(args), *args)
    return [json.loads(line) for line in out.splitlines()]


def request_ids(records: list[dict], source: str | None = None) -> set[str]:
    return {
        r["message"]["request_id"]
        for r in records
        if isinstance(r["message"], dict) and r["message"].get("request_id") and source in (None, r["source"])
    }


def test_a_request_is_followed_across_hosts_by_its_id(web, apps):
    tag = uuid.uuid4().hex
    headers = web.check_output(
        f"curl --silent --fail --dump-header - --output /dev/null --user-agent {tag} http://localhost/items/3"
    )
    request_id = re.search(r"(?im)^x-request-id: *([0-9a-f]{32})", headers).group(1)

    def both() -> list[dict]:
        found = search(web, "--request-id", request_id)
        return found if {r["source"] for r in found} >= {NGINX_SOURCE, APP} else []

    found = wait_for(both, timeout=30, interval=1)
    assert found, search(web, "--request-id", request_id)
    (edge,) = [r for r in found if r["source"] == NGINX_SOURCE]
    (served,) = [r for r in found if r["source"] == APP]
    assert edge["host"] == name(web)
    assert edge["message"]["request_id"] == request_id
    assert edge["message"]["user_agent"] == tag
    # The app host that served it, as nginx named its upstream.
    upstream = edge["message"]["upstream_addr"]
    (server,) = [app for app in apps if upstream.startswith(address(app) + ":")]
    assert served["host"] == name(server), (served, upstream)
    assert served["message"]["logger"] == "asgi.access"
    assert served["message"]["request_id"] == request_id

    # The one command: the playbook prints both, in the order the log host received them.
    run = ansible_playbook("logs.yml", "-e", f"request_id={request_id}")
    assert run.returncode == 0, run.stdout[-3000:]
    # (Quoted as YAML or JSON, whichever stdout callback prints them.)
    printed = re.findall(r"['\"](\d{4}-\d\d-\d\dT[\d:.]+Z) (\S+) (\S+): ", run.stdout)
    assert sorted((host, source) for _, host, source in printed) == sorted(
        [(name(web), NGINX_SOURCE), (name(server), APP)]
    ), run.stdout[-3000:]
    assert [stamp for stamp, _, _ in printed] == sorted(stamp for stamp, _, _ in printed)


def test_every_hosts_audit_lines_and_unit_lines_arrive(web, apps):
    audit = search(web, "--identifier", f"{APP}-deploy")
    hosts = {r["host"] for r in audit}
    assert hosts >= {name(web), *map(name, apps)}, hosts
    for record in audit:
        assert record["message"]["host"] == record["host"], record
    # systemd's own lines about the app's unit (test_cluster restarted it), by unit and host.
    first = apps[0]
    unit = search(web, "--unit", f"{APP}.service", "--host", name(first))
    assert {r["host"] for r in unit} == {name(first)}
    assert any(r["source"] == "systemd" and "Started" in r["message"] for r in unit), unit[-5:]


def silent_senders(web) -> set[str]:
    return {
        labels["sender"]
        for alert, state, labels in active_alerts(web)
        if alert == "LogsSilent" and state == "firing"
    }


def test_nothing_is_lost_while_the_receiver_is_down(web, apps):
    """Under load, the log host's receiver (TLS front and journal-remote) stopped until LogsSilent fires for
    every host, then started: every request nginx logged meanwhile arrives, nginx's line and the app's."""
    assert wait_for(lambda: not silent_senders(web), timeout=60), silent_senders(web)
    since = f"@{int(time.time()) - 1}"
    log = f"/var/log/nginx/{APP}/access.log"
    before = int(web.check_output(f"wc -l < {log}"))
    everyone = {name(web), *map(name, apps)}
    with load(web) as run:
        web.run_expect([0], f"systemctl stop {RECEIVER_UNITS}")
        try:
            started = time.monotonic()
            fired = wait_for(lambda: silent_senders(web) == everyone, timeout=90, interval=2)
            print(f"LogsSilent fired for every host after {time.monotonic() - started:.0f} s")
            assert fired, silent_senders(web)
        finally:
            web.run_expect([0], f"systemctl start {RECEIVER_UNITS}")
    assert run.result.failed == 0, run.result.report
    # What nginx logged locally meanwhile (its buffer is flushed within a second).
    time.sleep(2)
    local = web.check_output(f"tail -n +{before + 1} {log}")
    sent = {
        line["request_id"]
        for line in map(json.loads, local.splitlines())
        if line["user_agent"].startswith("hey/")
    }
    assert len(sent) >= run.result.ok, (len(sent), run.result.ok)

    def missing() -> tuple[int, int]:
        records = search(web, "--app", APP, "--since", since)
        return len(sent - request_ids(records, NGINX_SOURCE)), len(sent - request_ids(records, APP))

    started = time.monotonic()
    lost = wait_for(lambda: missing() == (0, 0), timeout=120, interval=3)
    print(
        f"{len(sent)} requests while the receiver was down; all of nginx's and the app's lines there "
        f"{time.monotonic() - started:.0f} s after it started: {lost}"
    )
    assert lost, missing()
    assert wait_for(lambda: not silent_senders(web), timeout=60), silent_senders(web)


def test_only_hosts_with_a_certificate_of_the_log_ca_can_push(web, apps):
    sender = apps[0]
    url = f"https://{address(web)}:19532/upload"
    push = (
        "curl --silent --show-error --max-time 5 --cacert /etc/logs/tls/ca.crt --output /dev/null "
        "--write-out '%{http_code}' --header 'Content-Type: application/vnd.fdo.journal' "
        "--data-binary @/dev/null " + url
    )
    # The deployment's own certificate: the handshake completes and journal-remote answers.
    assert sender.check_output(f"{push} --cert /etc/logs/tls/host.crt --key /etc/logs/tls/host.key") == "202"
    # None, or one of another CA: the handshake is refused.
    refused = sender.run(push)
    assert refused.rc != 0, refused
    sender.run_expect(
        [0],
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=intruder -keyout /tmp/intruder.key -out /tmp/intruder.crt 2>/dev/null",
    )
    intruder = sender.run(f"{push} --cert /tmp/intruder.crt --key /tmp/intruder.key")
    assert intruder.rc != 0, intruder
    # The TLS front says why.
    front = web.check_output("journalctl --unit logs-receiver-tls.service --output cat --since -2min")
    assert "peer did not return a certificate" in front, front[-2000:]
    assert "Rejected by CERT at depth=0: CN=intruder" in front, front[-2000:]


def test_the_disk_budget_holds(web, apps):
    """96M here (logs_max_use): archived files past it go, oldest first; the active file stays."""
    service = web.file("/etc/systemd/system/logs-receiver-maintenance.service").content_string
    assert "--max-use 96M --keep-free 1G --retention 30d" in service
    # 16 archived files (copies of one of a few received lines, 8 MiB each as journal files start),
    # begun in the last minute as their names say, oldest first.
    now = int(time.time() * 1e6)
    web.run_expect(
        [0],
        f"journalctl -D {RECEIVED} -o export -n 20 | /lib/systemd/systemd-journal-remote "
        "--output=/tmp/sample.journal - && "
        f"cd {RECEIVED} && for i in $(seq 1 16); do n=$(printf %016x $i); "
        f"t=$(printf %016x $(({now} - (17 - i) * 1000000))); "
        f"cp --sparse=never /tmp/sample.journal {ARCHIVED}-$n-$t.journal; done; rm /tmp/sample.journal",
    )
    try:
        web.run_expect([0], "systemctl start logs-receiver-maintenance.service")
        used = int(web.check_output(f"du --block-size=1 --summarize {RECEIVED}").split()[0])
        files = web.check_output(f"ls {RECEIVED}").split()
        print(f"received logs after the budget: {used} bytes in {files}")
        assert used <= 96 * 1024 * 1024, (used, files)
        assert "remote.journal" in files
        # Oldest first: what is left of the 16 are the newest, and some went.
        left = sorted(int(f.split("-")[1], 16) for f in files if f.startswith(ARCHIVED))
        assert len(left) < 16, files
        assert left == list(range(17 - len(left), 17)), files
    finally:
        web.run(f"rm -f {RECEIVED}/{ARCHIVED}-*")
    metrics = web.file("/var/lib/prometheus/node-exporter/logs.prom").content_string
    newest = dict(
        re.findall(r'^logs_sender_last_line_timestamp_seconds\{sender="([^"]+)"\} ([0-9.]+)$', metrics, re.M)
    )
    assert set(newest) == {name(web), *map(name, apps)}, metrics
    assert all(float(stamp) > time.time() - 60 for stamp in newest.values()), metrics
