"""`make bench` machinery, run for a second per configuration against this host.

Speed targets live in the benchmark itself (make bench); this only proves the
script drives every configuration, parses wrk and h2load and leaves the host as it was
(Caddy, HAProxy and nghttp2-client stay installed: setup() installs them, masked).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import CA

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])


def test_bench_runs_every_configuration_and_cleans_up(host, tmp_path: Path) -> None:
    container = host.ansible.get_variables()["inventory_hostname"]
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "bench.py"),
            "--container",
            container,
            "--seconds",
            "1",
            "--rounds",
            "2",
            "--sweep",
            "1,2",
            "--paths",
            "/health",
            "--no-chart",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((tmp_path / "results.json").read_text())
    configs = {(r["config"], r["workers"]) for r in data["serving"]}
    expected = {
        "nginx-return",
        "uvicorn",
        "uvicorn-no-log",
        "gunicorn",
        "gunicorn-no-observe",
        "deployed",
        "deployed-no-ka",
        "deployed-plain",
        "caddy",
        "haproxy",
        "deployed-h2",
        "deployed-h1 (h2load)",
        "sweep",
    }
    parts = {c for c, _ in configs if c.startswith("nginx/")}
    shipping = {c for c, _ in configs if c.startswith("shipping/")}
    assert {c for c, _ in configs} - parts - shipping == expected
    # The central log's rows (benchlib/shipping.py): nginx's file alone, and shipped two ways.
    shipped = {"file + syslog datagram, shipped", "file followed (logs role), shipped"}
    assert shipping == {f"shipping/{name}" for name in {"access log file", *shipped}}
    # The decomposition: the return variants, the bare proxy and the whole site's location at least.
    assert {"nginx/return", "nginx/return + headers + log", "nginx/proxy"} <= parts
    assert "nginx/all parts (the site's location)" in parts
    assert {w for c, w in configs if c == "sweep"} == {1, 2}
    for run in data["serving"]:
        if run["config"].startswith("shipping/"):
            assert run["requests"] > 0, run
            assert run["errors"] == 0, run
            if run["config"].removeprefix("shipping/") in shipped:
                assert run["cpu_us"].get("received %", 0) > 0, run
            continue
        # nginx's decomposition runs its own rounds (default 1); every other figure the asked 2.
        rounds = 1 if run["config"].startswith("nginx/") else 2
        assert len(run["rounds_rps"]) == rounds, run
        assert run["requests"] > 0, run
        assert run["rps"] > 0, run
        assert 0 < run["p50_ms"] <= run["p99_ms"], run
        assert run["errors"] == 0, run
        # CPU per request of whatever served it, from its cgroup around the run.
        serving = "workers" if run["config"] != "nginx-return" and run["workers"] else "nginx"
        assert run["cpu_us"].get(serving, 0) > 0, run
        assert run["cpu_us"].get("wrk", 0) > 0, run
    assert "proxy and TLS cost (deployed / gunicorn) /health" in data["ratios"]
    assert "TLS cost (deployed / deployed-plain) /health" in data["ratios"]
    assert "nginx front / best of Caddy and HAProxy /health" in data["ratios"]
    assert "HTTP/2 (deployed-h2 / deployed-h1 (h2load)) /health" in data["ratios"]
    for peer in ("caddy", "haproxy"):
        run = next(r for r in data["serving"] if r["config"] == peer)
        assert run["cpu_us"].get("front", 0) > 0, run
    assert "nginx CPU: proxied (deployed) / return 200 /health" in data["ratios"]
    assert "request metrics: worker µs per request added by deploy_observe /health" in data["ratios"]
    assert "## nginx's proxied location, part by part" in (tmp_path / "results.md").read_text()
    assert "| deployed | `/health` |" in (tmp_path / "results.md").read_text()
    # The fixture is gone and nginx serves the site as before.
    assert not host.file("/etc/nginx/conf.d/zz-bench.conf").exists
    assert not host.file("/run/bench-no-observe.conf.py").exists
    assert not host.file("/run/bench-peers").exists
    units = ("bench-uvicorn", "bench-uvicorn-no-log", "bench-gunicorn", "bench-gunicorn-no-observe")
    for unit in (*units, "bench-sweep-1", "bench-sweep-2", "bench-caddy", "bench-haproxy"):
        assert not host.service(unit).is_running, unit
    assert host.run(f"curl -sf --cacert {CA} https://localhost/health").rc == 0
