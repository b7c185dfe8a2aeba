"""Commands inside the benchmark's sandbox container, through `docker exec`."""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Sequence

from benchlib import cpu, h2load
from benchlib.wrk import WrkResult, parse

# The line h2load()'s script prints with h2load's exit status.
H2LOAD_EXIT = "H2LOAD EXIT"


class Sandbox:
    """One systemd container with the app deployed (see scripts/sandbox)."""

    def __init__(self, container: str, app: str, module: str) -> None:
        self.container = container
        self.app = app
        self.module = module

    def sh(self, script: str, *, check: bool = True, timeout: float = 300) -> str:
        proc = subprocess.run(
            ["docker", "exec", self.container, "bash", "-ceu", script],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"in {self.container}: {script}\n{proc.stdout}{proc.stderr}")
        return proc.stdout

    def answers(self, url: str) -> bool:
        probe = subprocess.run(
            # -k: the sandbox's certificate is signed by its own CA.
            ["docker", "exec", self.container, "curl", "-skf", "-o", "/dev/null", "--max-time", "1", url],
            capture_output=True,
            check=False,
        )
        return probe.returncode == 0

    def wait_http(self, url: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.answers(url):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout} s")
            time.sleep(0.3)

    def worker_count(self) -> int:
        """Workers of the deployed Gunicorn master, read from the process tree."""
        pid = self.sh(f"systemctl show --property=MainPID --value {self.app}.service").strip()
        return len(self.sh(f"ps --ppid {pid} -o pid=").split())

    def start_unit(
        self,
        unit: str,
        command: str,
        extra: dict[str, str] | None = None,
        user: str | None = None,
        workdir: str | None = None,
    ) -> None:
        """A transient unit running as the app's user in its release (or `user` in `workdir`),
        like the real service.

        `extra`: RuntimeDirectory (a unit property) and environment variables.
        """
        user = user or self.app
        workdir = workdir or f"/opt/{self.app}/current"
        extra = dict(extra or {})
        runtime_dir = extra.pop("RuntimeDirectory", None)
        options = f"--property RuntimeDirectory={runtime_dir} " if runtime_dir else ""
        options += "".join(f"--setenv {name}={value} " for name, value in extra.items())
        self.sh(f"systemctl stop {unit} 2>/dev/null || true")
        self.sh(f"systemctl reset-failed {unit} 2>/dev/null || true")
        self.sh(
            f"systemd-run --quiet --unit {unit} --uid {user} --gid {user} "
            f"--property WorkingDirectory={workdir} "
            f"--setenv PATH=/opt/{self.app}/current/venv/bin:/usr/bin "
            f"{options}{command}"
        )

    def stop_unit(self, unit: str) -> None:
        self.sh(f"systemctl stop {unit} 2>/dev/null || true", check=False)

    def wrk(
        self,
        url: str,
        *,
        seconds: float,
        connections: int,
        host: str = "localhost",
        units: Sequence[str] = (),
    ) -> tuple[WrkResult, dict[str, float]]:
        """One wrk run; with it the CPU seconds each of `units` (systemd units) and wrk spent."""
        command = (
            f"wrk --threads 2 --connections {connections} --duration {max(1, round(seconds))}s "
            f"--timeout 5s --latency --header 'Host: {host}' {shlex.quote(url)}"
        )
        out = self.sh(cpu.script(command, units), timeout=seconds + 60)
        return parse(out), cpu.parse(out)

    def h2load(
        self, url: str, *, seconds: float, connections: int, h1: bool = False, units: Sequence[str] = ()
    ) -> tuple[WrkResult, dict[str, float]]:
        """One h2load run (HTTP/2, one stream per connection at a time like wrk's keep-alive
        HTTP/1.1; `h1`: h2load speaking HTTP/1.1), with the CPU seconds as wrk()'s.

        A number of requests, not a duration: nginx closes a connection after
        `keepalive_requests` (1000) requests, and h2load opens no new HTTP/2 connection (it
        does for HTTP/1.1), so a timed run's clients went idle after 1000 requests each and
        its req/s counted the idle tail (8000 req/s exactly: 32 clients x 1000 over 4 s, on
        2026-12-06). Each client makes at most h2load.REQUESTS_PER_CLIENT requests, fewer for
        short runs (250 per second of `seconds`). Timed runs of Debian 12's h2load (nghttp2
        1.52) also spun past their end (2026-12-03 and 12-06). Each run stays bounded by
        coreutils' `timeout` inside the container; one cut off runs once more, and if that one
        is cut off too, its figures come from its per-request log."""
        log = "/tmp/bench-h2load.log"
        per_client = min(h2load.REQUESTS_PER_CLIENT, max(50, round(250 * seconds)))
        limit = max(60, round(seconds * 15))
        command = (
            f"rc=0; timeout --kill-after=2 {limit} "
            f"h2load --threads 2 --clients {connections} --max-concurrent-streams 1 "
            f"--requests {per_client * connections} --log-file {log} {'--h1 ' if h1 else ''}"
            f"{shlex.quote(url)} || rc=$?; echo {H2LOAD_EXIT} $rc"
        )
        script = cpu.script(command, units) + f"echo {h2load.LOG_MARKER}; cat {log}; rm -f {log}\n"
        for attempt in (1, 2):
            out = self.sh(script, timeout=limit + 60)
            status = next(
                (line.split()[-1] for line in out.splitlines() if line.startswith(H2LOAD_EXIT)), "?"
            )
            if status == "0":
                break
            if status not in ("124", "137"):
                raise RuntimeError(f"h2load to {url} ended with status {status}:\n{out[:2000]}")
            again = "once more" if attempt == 1 else "figures from its request log"
            print(f"  h2load to {url} ran past {limit} s and was stopped: {again}", flush=True)
        wanted = "http/1.1" if h1 else "h2"
        if f"Application protocol: {wanted}" not in out:
            raise RuntimeError(f"h2load to {url} did not speak {wanted}:\n{out[:2000]}")
        result = h2load.parse(out) if status == "0" else h2load.parse_log(out)
        return result, cpu.parse(out)
