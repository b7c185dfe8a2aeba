"""wrk's report, parsed: units, optional error lines, garbage refused."""

import pytest

from benchlib.wrk import parse

CLEAN = """\
Running 2s test @ http://127.0.0.1:80/items/1
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.76ms   10.42ms  78.79ms   87.20%
    Req/Sec     1.70k     0.86k    3.45k    62.50%
  Latency Distribution
     50%  702.00us
     75%   14.32ms
     90%   24.01ms
     99%    1.51s
  6770 requests in 2.01s, 1.21MB read
Requests/sec:   3367.20
Transfer/sec:    618.20KB
"""


def test_parses_throughput_and_latency_units() -> None:
    result = parse(CLEAN)
    assert result.requests == 6770
    assert result.seconds == pytest.approx(2.01)
    assert result.rps == pytest.approx(3367.20)
    assert result.p50_ms == pytest.approx(0.702)
    assert result.p99_ms == pytest.approx(1510.0)
    assert result.errors == 0


def test_counts_socket_errors_and_non_2xx() -> None:
    text = CLEAN.replace(
        "Requests/sec",
        "  Socket errors: connect 1, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 7\nRequests/sec",
    )
    result = parse(text)
    assert result.socket_errors == 6
    assert result.non_2xx == 7
    assert result.as_dict()["errors"] == 13


def test_refuses_output_that_is_not_a_wrk_report() -> None:
    with pytest.raises(ValueError, match="requests in"):
        parse("unable to connect to 127.0.0.1:80 Connection refused\n")
