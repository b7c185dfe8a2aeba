"""The central log's CPU per request (logs role): nginx's access line into the journal, shipped.

Three loopback servers of nginx answering `return 200`, each with the site's buffered JSON access
log format: the first writes only its file (the deployment without a central log); the second also
sends each line to journald through its syslog socket (one datagram per request); the third's file
is followed into the journal by the logs role's follower (files/logs-file-follow: blocks of lines
through journald's stream socket, from a saved offset), what the role does. Beside them the
shipping of the logs role, set up here alone (the bench container has no `logs` group; on a host
with one, systemd-journal-upload's own configuration would add a second URL):
systemd-journal-upload sending the journal over TLS with a client certificate to stunnel, in front
of systemd-journal-remote on loopback, all units of this host. Every unit's CPU per request (cgroup
`cpu.stat`, benchlib.cpu): nginx's, journald's, the follower's, the upload's, the TLS front's and
the receiver's. On a real deployment the last two run on the log host. Each run ends when the
upload's cursor stops moving, so the shipping of every line of the run is counted; the lines the
receiver got are counted too (the syslog datagrams are dropped when journald falls behind).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchlib import cpu
from benchlib.sandbox import Sandbox
from benchlib.serving import Run, median_runs
from benchlib.wrk import parse

PREFIX = "shipping/"
PORTS = {"file": 18400, "syslog": 18401, "follower": 18402}
DIR = "/etc/bench-logs"
# After the site's log format in conf.d (files are read in name order).
CONF = "/etc/nginx/conf.d/zz-bench-shipping.conf"
LOGS = "/var/log/nginx/bench-shipping"
RECEIVED = "/var/tmp/bench-logs-remote"
STATE = "/var/tmp/bench-logs-upload.state"
FOLLOW_STATE = "/var/tmp/bench-logs-follow.json"
FOLLOWER = Path(__file__).resolve().parents[2] / "roles/logs/files/logs-file-follow"
TAG = "bench_shipping"
# Unit -> the role its CPU is shown as.
UNITS = {
    "nginx": "nginx",
    "systemd-journald": "journald",
    "bench-logs-follow": "follower",
    "bench-logs-upload": "upload",
    "bench-logs-tls": "tls front",
    "bench-logs-remote": "receiver",
}
ROLES = tuple(UNITS.values())
BENCH_UNITS = " ".join(unit for unit in UNITS if unit.startswith("bench-"))
SHIPPING_ROLES = ("journald", "follower", "upload", "tls front", "receiver")


@dataclass(frozen=True)
class Variant:
    name: str
    port: int


VARIANTS = (
    Variant("access log file", PORTS["file"]),
    Variant("file + syslog datagram, shipped", PORTS["syslog"]),
    Variant("file followed (logs role), shipped", PORTS["follower"]),
)


def setup_script(access_log: str, body: str) -> str:
    """Shell: packages, a CA and one certificate, the receiver, the TLS front, the upload, the
    follower, nginx's servers. `access_log`: the site's access_log directive (its JSON format)."""
    words = access_log.rstrip(";").split()
    fmt, params = words[2], " ".join(words[3:])
    answer = f"default_type application/json; return 200 '{body}';"

    def server(port: int, logs: str) -> str:
        return f"server {{ listen 127.0.0.1:{port}; {logs} location / {{ {answer} }} }}\n"

    servers = (
        server(PORTS["file"], f"access_log {LOGS}/file.log {fmt} {params};")
        + server(
            PORTS["syslog"],
            f"access_log {LOGS}/syslog.log {fmt} {params}; "
            f"access_log syslog:server=unix:/dev/log,tag={TAG},nohostname {fmt};",
        )
        + server(PORTS["follower"], f"access_log {LOGS}/followed.log {fmt} {params};")
    )
    stunnel = (
        "foreground = yes\npid =\nsyslog = no\ndebug = warning\n[remote]\naccept = 127.0.0.1:19632\n"
        f"connect = 127.0.0.1:19631\ncert = {DIR}/host.crt\nkey = {DIR}/host.key\nCAfile = {DIR}/ca.crt\n"
        "requireCert = yes\nverifyChain = yes\n"
    )
    ext = "subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n"
    follower = FOLLOWER.read_text()
    return f"""
command -v stunnel >/dev/null && test -x /lib/systemd/systemd-journal-upload || \\
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends \\
     systemd-journal-remote stunnel4 >/dev/null)
mkdir -p {DIR} {RECEIVED} {LOGS} && cd {DIR}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=bench-ca \\
  -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=bench-host -keyout host.key \\
  -out host.csr 2>/dev/null
printf '{ext}' > host.ext
openssl x509 -req -in host.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile host.ext \\
  -out host.crt 2>/dev/null
cat > stunnel.conf <<'EOF'
{stunnel}EOF
cat > follow <<'EOF'
{follower}EOF
chmod 0755 follow
systemctl stop {BENCH_UNITS} 2>/dev/null || true
systemctl reset-failed {BENCH_UNITS} 2>/dev/null || true
rm -rf {RECEIVED}/* {STATE} {FOLLOW_STATE} {LOGS}/*
systemd-run --quiet --unit=bench-logs-remote /lib/systemd/systemd-journal-remote \\
  --listen-http=127.0.0.1:19631 --split-mode=none --output={RECEIVED}/remote.journal
systemd-run --quiet --unit=bench-logs-tls stunnel {DIR}/stunnel.conf
sleep 1
systemd-run --quiet --unit=bench-logs-upload /lib/systemd/systemd-journal-upload --save-state={STATE} \\
  --url=https://127.0.0.1:19632 --key={DIR}/host.key --cert={DIR}/host.crt --trust={DIR}/ca.crt
cat > {CONF} <<'EOF'
{servers}EOF
nginx -t -q && systemctl reload nginx
sleep 1
systemd-run --quiet --unit=bench-logs-follow --property=SyslogIdentifier={TAG} {DIR}/follow \\
  --path {LOGS}/followed.log --state {FOLLOW_STATE}
# The upload starts with the journal's history: measured once it has caught up.
for i in $(seq 1 60); do
  before=$(cat {STATE} 2>/dev/null || true); sleep 1; after=$(cat {STATE} 2>/dev/null || true)
  [ -n "$after" ] && [ "$before" = "$after" ] && break
done
for unit in bench-logs-upload bench-logs-tls bench-logs-remote bench-logs-follow; do
  systemctl is-active --quiet $unit || {{ systemctl status --no-pager $unit; exit 1; }}
done
curl --silent --fail --output /dev/null http://127.0.0.1:{PORTS["file"]}/
"""


def teardown_script() -> str:
    return (
        f"systemctl stop {BENCH_UNITS} 2>/dev/null; "
        f"systemctl reset-failed {BENCH_UNITS} 2>/dev/null || true; "
        f"rm -rf {CONF} {DIR} {RECEIVED} {STATE} {FOLLOW_STATE} {LOGS}; nginx -t -q && systemctl reload nginx"
    )


def received_lines(box: Sandbox) -> int:
    """The bench's lines the receiver holds (each request's access line once)."""
    out = box.sh(
        f"journalctl --directory {RECEIVED} SYSLOG_IDENTIFIER={TAG} --output cat --no-pager | wc -l",
        check=False,
    )
    return int(out.strip() or 0)


def per_request(seconds: dict[str, float], requests: int) -> dict[str, float]:
    """µs per request by role; "shipping": journald, upload, TLS front and receiver together."""
    out = cpu.per_request(seconds, {**UNITS, "wrk": "wrk"}, requests)
    out["shipping"] = round(sum(out.get(role, 0.0) for role in SHIPPING_ROLES), 1)
    return out


def drained_wrk(url: str, seconds: float, connections: int) -> str:
    """wrk, then the wait until every line of the run is shipped: nginx's buffer flushed, the
    follower at the end of its file, the upload's cursor still for 2 s (at most 60 s). The CPU
    snapshots around it all count the shipping of every line the run logged."""
    return (
        f"wrk --threads 2 --connections {connections} --duration {max(1, round(seconds))}s "
        f"--timeout 5s --latency --header 'Host: localhost' {url}\n"
        "sleep 1.5; still=0\n"
        "for i in $(seq 1 120); do\n"
        f"  before=$(cat {STATE}); sleep 0.5\n"
        f'  offset=$(python3 -c \'import json; print(json.load(open("{FOLLOW_STATE}"))["offset"])\')\n'
        f"  size=$(stat -c %s {LOGS}/followed.log)\n"
        f'  if [ "$before" = "$(cat {STATE})" ] && [ "$offset" = "$size" ]; then\n'
        "    still=$((still + 1)); [ $still -ge 4 ] && break\n"
        "  else still=0; fi\n"
        "done\n"
    )


def measure(
    box: Sandbox, parts_access_log: str, body: str, *, seconds: float, connections: int, rounds: int
) -> list[Run]:
    """Each variant `rounds` times, interleaved; the median round of each (serving.Run rows)."""
    print(" central log shipping", flush=True)
    box.sh(setup_script(parts_access_log, body), timeout=600)
    runs = []
    try:
        for _ in range(rounds):
            for variant in VARIANTS:
                before = received_lines(box)
                out = box.sh(
                    cpu.script(drained_wrk(f"http://127.0.0.1:{variant.port}/", seconds, connections), UNITS),
                    timeout=seconds + 90,
                )
                result = parse(out)
                usage = per_request(cpu.parse(out), result.requests)
                arrived = received_lines(box) - before
                if variant.port != PORTS["file"] and result.requests:
                    usage["received %"] = round(100 * arrived / result.requests, 2)
                print(
                    f"  {variant.name:<26} {result.rps:>9.0f} req/s  errors {result.errors}  lines received "
                    f"{arrived}/{result.requests}  µs/req: "
                    + "  ".join(f"{role} {value:.1f}" for role, value in usage.items()),
                    flush=True,
                )
                runs.append(Run(PREFIX + variant.name, "/", None, result, [result.rps], result.errors, usage))
    finally:
        box.sh(teardown_script(), check=False)
    return median_runs(runs)
