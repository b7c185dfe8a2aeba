"""h2load's report and per-request log parsed into a WrkResult; the peers' configs."""

from __future__ import annotations

import pytest

from benchlib import h2load, peers

REPORT = """starting benchmark...
spawning thread #0: 16 total client(s). Timing-based test with 0s of warm-up time
Application protocol: h2

finished in 5.00s, 4100.20 req/s, 1.38MB/s
requests: 20501 total, 20533 started, 20501 done, 20498 succeeded, 3 failed, 1 errored, 1 timeout
status codes: 20498 2xx, 0 3xx, 0 4xx, 2 5xx
traffic: 6.91MB (7245567) total, 341.72KB (349924) headers (space savings 93.19%), 659.21KB (675030) data
"""


def log(latencies_us: list[int]) -> str:
    return "".join(f"{1764700000000000 + i}\t200\t{us}\n" for i, us in enumerate(latencies_us))


def test_parses_the_report_and_the_logs_percentiles() -> None:
    text = REPORT + h2load.LOG_MARKER + "\n" + log(list(range(1000, 101000, 1000)))
    result = h2load.parse(text)
    assert (result.requests, result.seconds, result.rps) == (20501, 5.0, 4100.2)
    assert (result.p50_ms, result.p99_ms) == (50.0, 99.0)
    # failed counts HTTP-level failures too; errored (timeouts included) are the socket's.
    assert (result.socket_errors, result.non_2xx, result.errors) == (1, 2, 3)


def test_a_run_that_was_stopped_is_read_from_its_log() -> None:
    """No report (h2load was stopped): every logged request, over the span they took."""
    start = 1764700000000000
    lines = [f"{start + i * 1000}\t200\t{500 + i}\n" for i in range(3000)]  # one a millisecond
    lines.append(f"{start + 1500}\t502\t900\n")
    text = "Application protocol: h2\nStopping all clients.\n" + h2load.LOG_MARKER + "\n" + "".join(lines)
    result = h2load.parse_log(text)
    # The last one starts at 2.999 s and takes 3.499 ms.
    assert result.requests == 3001
    assert result.seconds == pytest.approx(3.002499)
    assert result.rps == pytest.approx(3001 / 3.002499)
    assert (result.socket_errors, result.non_2xx) == (0, 1)
    assert result.p50_ms == pytest.approx(2.0, abs=0.01)
    with pytest.raises(ValueError, match="no request"):
        h2load.parse_log("Application protocol: h2\n" + h2load.LOG_MARKER + "\n")


def test_refuses_output_that_is_not_an_h2load_report() -> None:
    with pytest.raises(ValueError, match="h2load output lacks"):
        h2load.parse("No protocol negotiated. Aborting\n")


def test_nearest_rank_percentile() -> None:
    assert h2load.percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert h2load.percentile([1.0, 2.0], 0.99) == 2.0
    assert h2load.percentile([], 0.5) == 0.0


def test_peers_use_the_sites_certificate_and_the_apps_socket() -> None:
    tls = peers.tls_paths(
        "ssl_certificate /etc/ssl/site/fullchain.pem; ssl_certificate_key /etc/ssl/site/privkey.pem;"
    )
    assert tls == peers.Tls("/etc/ssl/site/fullchain.pem", "/etc/ssl/site/privkey.pem")
    with pytest.raises(RuntimeError, match="no certificate"):
        peers.tls_paths("")
    caddy = peers.caddyfile("/run/app.sock", "/var/log/x.log")
    assert "reverse_proxy unix//run/app.sock" in caddy
    assert "format json" in caddy
    haproxy = peers.haproxy_cfg("/run/app.sock")
    assert "http-reuse safe" in haproxy
    assert "server app /run/app.sock" in haproxy
    assert "mode http" in haproxy
    assert "log-format '{" in haproxy
