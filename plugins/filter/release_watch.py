# Used by the app role's post-switch watch (roles/app tasks/watch.yml): the
# host's request counters are read from its own /metrics (deploy_observe, the
# exposition prometheus_client writes) before and after the switch, and the
# new release's window is judged against the old release's.
"""The post-switch watch: request counters from a /metrics exposition, and the verdict on a release."""

from __future__ import annotations

import math
import re
from typing import Any

REQUESTS = "http_requests_total"
BUCKETS = "http_request_duration_seconds_bucket"
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}\s+(\S+)(?:\s+\S+)?$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
QUANTILE = 0.95

Counters = dict[str, dict[str, Any]]


def _unescape(value: str) -> str:
    return value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


def request_counters(text: str) -> Counters:
    """{"<method> <route>": {"requests": n, "errors": n (5xx), "buckets": {le: n, cumulative}}}.

    Only the two families the watch reads; anything else (and anything unparsable) is skipped.
    """
    routes: Counters = {}
    for line in str(text or "").splitlines():
        if not line.startswith((REQUESTS + "{", BUCKETS + "{")):
            continue
        match = SAMPLE.match(line.strip())
        if not match:
            continue
        name, labels_text, value_text = match.groups()
        labels = {key: _unescape(value) for key, value in LABEL.findall(labels_text)}
        try:
            value = float(value_text)
        except ValueError:
            continue
        key = f"{labels.get('method', '')} {labels.get('route', '')}"
        entry = routes.setdefault(key, {"requests": 0.0, "errors": 0.0, "buckets": {}})
        if name == REQUESTS:
            entry["requests"] += value
            if labels.get("status", "").startswith("5"):
                entry["errors"] += value
        else:
            le = labels.get("le", "")
            entry["buckets"][le] = entry["buckets"].get(le, 0.0) + value
    return routes


def _route_path(key: str) -> str:
    return key.split(" ", 1)[1] if " " in key else key


def _window(after: Counters | None, before: Counters | None, exclude: set[str]) -> Counters:
    """after - before per route (a route or bucket missing before counts from 0; a counter that went
    back, a restart between the two reads, counts from 0 again)."""
    window: Counters = {}
    for key, now in (after or {}).items():
        if _route_path(key) in exclude:
            continue
        then = (before or {}).get(key, {})

        def delta(new: float, old: float) -> float:
            return new - old if new >= old else new

        old_buckets = then.get("buckets", {})
        buckets = {le: delta(count, old_buckets.get(le, 0.0)) for le, count in now.get("buckets", {}).items()}
        window[key] = {
            "requests": delta(now.get("requests", 0.0), then.get("requests", 0.0)),
            "errors": delta(now.get("errors", 0.0), then.get("errors", 0.0)),
            "buckets": buckets,
        }
    return window


def _total(window: Counters) -> dict[str, Any]:
    total: dict[str, Any] = {"requests": 0.0, "errors": 0.0, "buckets": {}}
    for entry in window.values():
        total["requests"] += entry["requests"]
        total["errors"] += entry["errors"]
        for le, count in entry["buckets"].items():
            total["buckets"][le] = total["buckets"].get(le, 0.0) + count
    return total


def quantile(buckets: dict[str, float], q: float = QUANTILE) -> float | None:
    """histogram_quantile as Prometheus computes it: linear inside the bucket holding the rank; in the
    +Inf bucket, the highest finite bound. None without observations."""
    bounds = sorted(((math.inf if le == "+Inf" else float(le)), count) for le, count in buckets.items())
    if not bounds or bounds[-1][1] <= 0:
        return None
    rank = q * bounds[-1][1]
    lower, below = 0.0, 0.0
    for bound, cumulative in bounds:
        if cumulative >= rank:
            if math.isinf(bound):
                return lower
            if cumulative == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (cumulative - below)
        lower, below = bound, cumulative
    return lower


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.3g}%"


def _seconds(value: float) -> str:
    return f"{value * 1000:.3g} ms" if value < 1 else f"{value:.3g} s"


def watch_verdict(
    reads: dict[str, Any],
    min_requests: int = 100,
    max_error_ratio: float = 0.01,
    max_latency_ratio: float = 2.0,
    exclude: list[str] | None = None,
) -> dict[str, Any]:
    """Judge the new release's window (new_before -> new_after) against the old release's (old_before ->
    old_after), all of `reads` being request_counters() results (the old ones may be missing).

    A breach: the 5xx ratio above max_error_ratio and above the old release's ratio + max_error_ratio,
    or the p95 latency above max_latency_ratio x the old release's, over all routes or on one route
    with at least min_requests in both windows (latency) or in the new one (errors). Returns
    {"breach", "reason", "note", "new": {requests, error_ratio, p95}, "old": {...}}.
    """
    skip = set(exclude or [])
    if reads.get("new_before") is None or reads.get("new_after") is None:
        empty = {"requests": 0, "error_ratio": None, "p95": None}
        note = "the new release's counters could not be read (its /metrics): not judged"
        return {"breach": False, "reason": "", "note": note, "new": empty, "old": dict(empty)}
    new = _window(reads.get("new_after"), reads.get("new_before"), skip)
    old = _window(reads.get("old_after"), reads.get("old_before"), skip) if reads.get("old_after") else {}
    # A route first (the busiest first), so that a breach names where it is; then all routes.
    busiest = sorted(new, key=lambda key: (-new[key]["requests"], key))
    scopes = [(key, new[key], old.get(key, {})) for key in busiest]
    scopes.append(("all routes", _total(new), _total(old)))

    def summary(entry: dict[str, Any]) -> dict[str, Any]:
        requests = entry.get("requests", 0.0)
        return {
            "requests": int(requests),
            "error_ratio": (entry.get("errors", 0.0) / requests) if requests else None,
            "p95": quantile(entry.get("buckets", {})),
        }

    verdict: dict[str, Any] = {
        "breach": False,
        "reason": "",
        "note": "",
        "new": summary(scopes[-1][1]),
        "old": summary(scopes[-1][2]),
    }
    if verdict["new"]["requests"] < min_requests:
        verdict["note"] = (
            f"{verdict['new']['requests']} requests after the switch, fewer than app_watch_min_requests "
            f"({min_requests}): not judged"
        )
        return verdict
    for scope, new_entry, old_entry in scopes:
        now, then = summary(new_entry), summary(old_entry)
        if now["requests"] < min_requests:
            continue
        old_ratio = then["error_ratio"] if then["requests"] >= min_requests else 0.0
        ratio = now["error_ratio"] or 0.0
        if ratio > max_error_ratio and ratio > (old_ratio or 0.0) + max_error_ratio:
            verdict["breach"] = True
            verdict["reason"] = (
                f"5xx {_percent(ratio)} > {_percent(max_error_ratio)} on {scope} "
                f"({now['requests']} requests; the old release: {_percent(old_ratio or 0.0)})"
            )
            return verdict
        compared = then["requests"] >= min_requests and now["p95"] is not None and then["p95"]
        if compared and now["p95"] > max_latency_ratio * then["p95"]:
            verdict["breach"] = True
            verdict["reason"] = (
                f"p95 {_seconds(now['p95'])} > {max_latency_ratio:g} x {_seconds(then['p95'])} "
                f"(the old release) on {scope} ({now['requests']} requests)"
            )
            return verdict
    if verdict["old"]["requests"] < min_requests:
        verdict["note"] = (
            f"the old release answered {verdict['old']['requests']} requests before the switch: "
            "errors judged on the absolute ratio only, latency not compared"
        )
    return verdict


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"request_counters": request_counters, "watch_verdict": watch_verdict}
