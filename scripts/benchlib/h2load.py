"""Parse h2load's report and its per-request log (`--log-file`) into a WrkResult.

h2load prints no percentiles, so the latencies come from the log file: one line per request,
tab-separated: start (µs since the epoch), HTTP status, µs until the end of the response.
"""

from __future__ import annotations

import re

from benchlib.wrk import WrkResult

# The marker the log file follows in the command's output (serving.h2load_command).
LOG_MARKER = "H2LOAD LOG"
# Requests per client and run: under nginx's keepalive_requests (1000), after which nginx
# closes the connection and h2load opens no new HTTP/2 one (sandbox.h2load).
REQUESTS_PER_CLIENT = 900


def _search(pattern: str, text: str) -> re.Match[str]:
    match = re.search(pattern, text, re.M)
    if not match:
        raise ValueError(f"h2load output lacks {pattern!r}:\n{text[:2000]}")
    return match


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (sorted here); 0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def _log_lines(log: str) -> list[tuple[int, str, int]]:
    """(start µs, status, µs until the end) of each request line of the log file."""
    return [
        (int(f[0]), f[1], int(f[2]))
        for f in (line.split("\t") for line in log.splitlines())
        if len(f) == 3 and f[0].isdigit() and f[2].isdigit()
    ]


def parse_log(text: str) -> WrkResult:
    """A run that was stopped (no report): the requests of its log file, their rate over the
    span from the first one's start to the last one's end, their percentiles, every status but
    2xx counted as failed. ValueError when the log holds no request."""
    _, _, log = text.partition(LOG_MARKER)
    lines = _log_lines(log)
    if not lines:
        raise ValueError(f"h2load's log holds no request:\n{text[:2000]}")
    first = min(start for start, _, _ in lines)
    seconds = max(start + us for start, _, us in lines) / 1_000_000 - first / 1_000_000
    latencies = [us / 1000 for _, _, us in lines]
    return WrkResult(
        requests=len(lines),
        seconds=seconds,
        rps=len(lines) / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(latencies, 0.5),
        p99_ms=percentile(latencies, 0.99),
        socket_errors=0,
        non_2xx=sum(1 for _, status, _ in lines if not status.startswith("2")),
    )


def parse(text: str) -> WrkResult:
    """Numbers from h2load's report followed by LOG_MARKER and its log file; ValueError otherwise."""
    report, _, log = text.partition(LOG_MARKER)
    finished = _search(r"^finished in ([\d.]+)(ms|s), ([\d.]+) req/s", report)
    seconds = float(finished.group(1)) / (1000 if finished.group(2) == "ms" else 1)
    counts = _search(
        r"^requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored",
        report,
    )
    failed, errored = int(counts.group(4)), int(counts.group(5))
    latencies = [us / 1000 for _, _, us in _log_lines(log)]
    return WrkResult(
        requests=int(counts.group(2)),
        seconds=seconds,
        rps=float(finished.group(3)),
        p50_ms=percentile(latencies, 0.5),
        p99_ms=percentile(latencies, 0.99),
        socket_errors=errored,
        non_2xx=failed - errored,
    )
