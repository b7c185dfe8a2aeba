"""HTTP from inside the host, process lookups and polling for the scenario's tests."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


APP = "fastapi-demo"
SOCKET = f"/run/{APP}.sock"
# The default and release scenarios turn on HTTPS with a CA generated for the test; the role
# installs that CA next to the certificate.
CA = f"/etc/nginx/tls/{APP}/ca.pem"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> object:
        return json.loads(self.body)


def http_get(
    host,
    url: str,
    *,
    unix_socket: str | None = None,
    host_header: str | None = None,
    headers: tuple[str, ...] = (),
    curl_args: tuple[str, ...] = (),
) -> Response:
    """GET from inside the host with curl; returns status, lower-cased headers, body.

    HTTPS URLs are verified against the test CA (and only against it).
    """
    cmd = ["curl", "--silent", "--show-error", "--max-time", "5", "--include"]
    if url.startswith("https:"):
        cmd += ["--cacert", CA]
    if unix_socket:
        cmd += ["--unix-socket", unix_socket]
    if host_header:
        cmd += ["--header", f"Host: {host_header}"]
    for header in headers:
        cmd += ["--header", header]
    cmd += [*curl_args, url]
    result = host.run(" ".join(["%s"] * len(cmd)), *cmd)
    assert result.rc == 0, f"curl {url} failed: {result.stderr}"
    head, _, body = result.stdout.replace("\r\n", "\n").partition("\n\n")
    status_line, *header_lines = head.split("\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Response(status=int(status_line.split()[1]), headers=headers, body=body)


def main_pid(host, unit: str) -> int:
    return int(host.check_output(f"systemctl show --property=MainPID --value {unit}"))


def children(host, pid: int) -> list[tuple[int, str, str]]:
    """(pid, user, command line) of the direct children of pid."""
    result = host.run(f"ps --ppid {pid} -o pid=,user:32=,args=")
    # ps exits 1 when nothing matches: no children (yet), not an error.
    assert result.rc == 0 or (result.rc == 1 and not result.stdout.strip()), result
    rows = []
    for line in result.stdout.splitlines():
        child, user, args = line.split(None, 2)
        rows.append((int(child), user, args))
    return rows


def process_tree(host, unit: str) -> tuple[int, tuple[int, ...]]:
    """The unit's main PID and its children's PIDs, sorted: equal before and after means untouched."""
    master = main_pid(host, unit)
    return master, tuple(sorted(pid for pid, _, _ in children(host, master)))


def settled(host, unit: str, workers: int, timeout: float = 20) -> int:
    """Wait until unit's master runs all its workers (after a restart or a kill); returns its PID."""

    def master_with_workers() -> int:
        master = main_pid(host, unit)
        return master if master and len(children(host, master)) == workers else 0

    master = wait_for(master_with_workers, timeout=timeout)
    assert master, f"{unit} did not get back to {workers} workers within {timeout} s"
    return master


def wait_for(predicate: Callable[[], T], timeout: float, interval: float = 0.2) -> T:
    """Poll predicate until it returns a truthy value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


@dataclass(frozen=True)
class LoadResult:
    ok: int
    failed: int
    report: str
    # Each status code's count, and the requests that got no answer (hey's error distribution).
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0


def load_during(
    host,
    command: str,
    *,
    seconds: int,
    delay: int,
    url: str = "http://localhost/",
    host_header: str = "localhost",
    rate: int = 0,
) -> LoadResult:
    """Run `hey` against url for `seconds`, run command after `delay`; count 200s and everything else.

    Failed means any non-200 status or any transport error hey saw. rate: requests per second
    of each of the 16 clients (0: as fast as they can).
    """
    script = (
        f"hey -z {seconds}s -c 16 -q {rate} -host {host_header} {url} > /tmp/hey.out 2>&1 & "
        f"sleep {delay}; {command} || echo COMMAND FAILED; wait; cat /tmp/hey.out"
    )
    report = host.check_output(f"sh -c '{script}'")
    assert "COMMAND FAILED" not in report, f"{command} failed during the load run"
    return parse_hey(report)


def parse_hey(report: str) -> LoadResult:
    """Count hey's 200s and everything else (other statuses, transport errors)."""
    ok = failed = errors = 0
    statuses: dict[int, int] = {}
    section = ""
    for line in report.splitlines():
        if line.startswith(("Status code distribution", "Error distribution")):
            section = line.split()[0]
            continue
        match = re.match(r"\s+\[(\d+)\]\s+(\d+)\s+responses", line)
        if section == "Status" and match:
            statuses[int(match.group(1))] = int(match.group(2))
            if match.group(1) == "200":
                ok += int(match.group(2))
            else:
                failed += int(match.group(2))
        error = re.match(r"\s+\[(\d+)\]\s+\S", line)
        if section == "Error" and error:
            failed += int(error.group(1))
            errors += int(error.group(1))
    return LoadResult(ok=ok, failed=failed, report=report, statuses=statuses, errors=errors)


class BackgroundLoad:
    """`hey` inside the host while the controller does something (a playbook run); stop() reports.

    Started detached, for at most `limit` seconds; stop() interrupts it (hey then prints its
    report) after `tail` more seconds, so requests after the action count too. Rate-limited
    (`connections` x `rate` requests per second at most), so the playbook it runs beside
    keeps some CPU on a small machine.
    """

    OUT = "/tmp/hey-background.out"
    PID = "/tmp/hey-background.pid"

    def __init__(
        self,
        host,
        url: str = "https://localhost/",
        host_header: str = "localhost",
        connections: int = 8,
        rate: int = 25,
    ) -> None:
        self.host = host
        self.url = url
        self.host_header = host_header
        self.connections = connections
        self.rate = rate

    def start(self, limit: int = 300) -> None:
        hey = f"hey -z {limit}s -c {self.connections} -q {self.rate} -host {self.host_header} {self.url}"
        self.host.run_expect(
            [0],
            f"rm -f {self.OUT} {self.PID}; setsid sh -c 'echo $$ > {self.PID}; exec {hey} > {self.OUT} 2>&1' "
            "< /dev/null > /dev/null 2>&1 &",
        )
        started = wait_for(lambda: self.host.run(f"kill -0 $(cat {self.PID})").rc == 0, timeout=5)
        assert started, "hey did not start"

    def stop(self, tail: float = 1) -> LoadResult:
        time.sleep(tail)
        self.host.run(f"kill -INT $(cat {self.PID})")

        def report() -> str:
            out = self.host.run(f"cat {self.OUT}").stdout
            return out if "Status code distribution" in out or "Error distribution" in out else ""

        text = wait_for(report, timeout=15)
        assert text, self.host.run(f"cat {self.OUT}").stdout
        return parse_hey(text)


def prometheus_api(host, path: str) -> object:
    """GET Prometheus's HTTP API on `host` (its default 127.0.0.1:9090); returns the decoded `data`."""
    out = host.check_output(
        "curl --silent --show-error --fail --max-time 5 %s", f"http://127.0.0.1:9090{path}"
    )
    reply = json.loads(out)
    assert reply["status"] == "success", reply
    return reply["data"]


def unhealthy_targets(host) -> list[tuple[str, str, str]]:
    """(job, scrape URL, last error) of every target Prometheus on `host` does not see up."""
    return [
        (t["labels"]["job"], t["scrapeUrl"], t["lastError"])
        for t in prometheus_api(host, "/api/v1/targets")["activeTargets"]
        if t["health"] != "up"
    ]


def active_alerts(host) -> list[tuple[str, str, dict]]:
    """(alert name, state, labels) of every pending or firing alert of Prometheus on `host`."""
    return [
        (a["labels"]["alertname"], a["state"], a["labels"])
        for a in prometheus_api(host, "/api/v1/alerts")["alerts"]
    ]
