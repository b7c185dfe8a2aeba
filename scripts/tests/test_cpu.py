"""CPU per request: the snapshots around a wrk run, parsed; the decomposition's site parts."""

from __future__ import annotations

import subprocess

import pytest

from benchlib import cpu, decompose

OUTPUT = """CPU before nginx 10000000
CPU before fastapi-demo 50000000
TIMES before
0m0.010s 0m0.000s
0m0.020s 0m0.010s
Running 5s test @ https://localhost:443/items/1
TIMES after
0m0.010s 0m0.000s
0m1.020s 0m0.510s
CPU after nginx 11500000
CPU after fastapi-demo 56600000
"""


def test_snapshots_give_each_units_and_wrks_cpu_seconds() -> None:
    seconds = cpu.parse(OUTPUT)
    assert seconds == pytest.approx({"nginx": 1.5, "fastapi-demo": 6.6, "wrk": 1.5})
    roles = {"nginx": "nginx", "fastapi-demo": "workers"}
    assert cpu.per_request(seconds, roles, 20000) == {"nginx": 75.0, "workers": 330.0, "wrk": 75.0}
    assert cpu.per_request(seconds, roles, 0) == {}


def test_the_script_runs_in_bash_and_counts_the_commands_children() -> None:
    # No unit: only the command's own CPU (a busy loop in a child shell).
    script = cpu.script("bash -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done'", [])
    out = subprocess.run(["bash", "-ceu", script], capture_output=True, text=True, check=True).stdout
    assert cpu.parse(out)["wrk"] > 0


SITE = """upstream fastapi-demo_app {
    server unix:/run/fastapi-demo.sock max_fails=1 fail_timeout=2s;
    keepalive 32;
}
server {
    listen 443 ssl;
    ssl_certificate /etc/ssl/site/fullchain.pem;
    ssl_certificate_key /etc/ssl/site/privkey.pem;
    access_log /var/log/nginx/fastapi-demo/access.log fastapi_demo_json buffer=64k flush=1s;
    proxy_next_upstream error timeout;
    proxy_next_upstream_tries 0;
    location / {
        include /etc/nginx/snippets/fastapi-demo/proxy.conf;
    }
}
"""


def test_site_parts_come_from_the_rendered_site() -> None:
    parts = decompose.site_parts(
        SITE, "limit_req zone=fastapi-demo_req burst=20 nodelay;\nlimit_req_status 429;\n"
    )
    assert parts.upstream == "fastapi-demo_app"
    assert parts.snippets == "/etc/nginx/snippets/fastapi-demo"
    assert parts.access_log.endswith("fastapi_demo_json buffer=64k flush=1s;")
    assert parts.next_upstream == "proxy_next_upstream error timeout; proxy_next_upstream_tries 0;"
    assert parts.limit_req == "limit_req zone=fastapi-demo_req burst=20 nodelay; limit_req_status 429;"
    fixture = decompose.fixture(parts, '{"ok":true}', 18081)
    assert fixture.count("server { listen 127.0.0.1:") == len(decompose.variants(parts, "{}"))
    assert "ssl_certificate_key /etc/ssl/site/privkey.pem;" in fixture
