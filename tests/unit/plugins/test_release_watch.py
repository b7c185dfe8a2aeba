"""The post-switch watch's verdict, on the counters deploy_observe really exposes: an app served through
the role's middleware, /metrics read between rounds of requests, as the app role reads it on the host."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.testclient import TestClient

from deploy_observe import ObserveMiddleware
from plugin_source import load

release_watch = load("filter/release_watch.py")

MIN = 30


def release(*, failing_every: int = 0, delay: float = 0.0) -> TestClient:
    """A release of the demo's shape: /items/{item_id} in a router with a prefix, /health; the release's
    fault, if any: every n-th item request answers 500, or each waits `delay` seconds."""
    app = FastAPI()
    items = APIRouter()
    calls = {"n": 0}

    @items.get("/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        calls["n"] += 1
        if failing_every and calls["n"] % failing_every == 0:
            raise HTTPException(status_code=500, detail="broken")
        if delay:
            await asyncio.sleep(delay)
        return {"item_id": item_id}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(items, prefix="/items")
    return TestClient(ObserveMiddleware(app, metrics=True))


def read(client: TestClient) -> dict:
    return release_watch.request_counters(client.get("/metrics").text)


def window(client: TestClient, requests: int, path: str = "/items/{}") -> tuple[dict, dict]:
    before = read(client)
    for n in range(requests):
        client.get(path.format(n))
    return before, read(client)


def verdict(
    old: TestClient, new: TestClient, requests: int = MIN, old_requests: int = MIN, **options: object
) -> dict:
    old_before, old_after = window(old, old_requests)
    new_before, new_after = window(new, requests)
    reads = {"old_before": old_before, "old_after": old_after}
    reads |= {"new_before": new_before, "new_after": new_after}
    options.setdefault("min_requests", MIN)
    options.setdefault("exclude", ["/health", "/metrics"])
    return release_watch.watch_verdict(reads, **options)


def test_counters_of_the_exposition_per_route_with_5xx_and_buckets() -> None:
    client = release(failing_every=3)
    before, after = window(client, 9)
    key = "GET /items/{item_id}"
    assert after[key]["requests"] - before.get(key, {}).get("requests", 0) == 9
    assert after[key]["errors"] - before.get(key, {}).get("errors", 0) == 3
    buckets = after[key]["buckets"]
    assert buckets["+Inf"] == after[key]["requests"]
    assert list(buckets.values()) == sorted(buckets.values())


def test_a_release_like_the_old_one_passes() -> None:
    result = verdict(release(), release())
    assert not result["breach"], result
    assert result["new"]["requests"] == MIN
    assert result["new"]["error_ratio"] == 0
    assert result["note"] == ""


def test_a_third_of_500s_on_a_route_is_a_breach_naming_the_route() -> None:
    result = verdict(release(), release(failing_every=3))
    assert result["breach"]
    expected = "5xx 33.3% > 1% on GET /items/{item_id} (30 requests"
    assert result["reason"].startswith(expected), result["reason"]


def test_errors_no_worse_than_the_old_release_by_the_margin_pass() -> None:
    # 1 in 10 before and after: the ratio is above 1 %, and not a point worse.
    result = verdict(release(failing_every=10), release(failing_every=10))
    assert not result["breach"], result
    assert result["new"]["error_ratio"] == pytest.approx(0.1)


def test_a_release_much_slower_than_the_old_one_is_a_breach_on_latency() -> None:
    result = verdict(release(), release(delay=0.03))
    assert result["breach"]
    assert result["reason"].startswith("p95 "), result["reason"]
    assert "> 2 x" in result["reason"]
    assert "on GET /items/{item_id}" in result["reason"]


def test_latency_is_not_compared_without_enough_of_the_old_release() -> None:
    result = verdict(release(), release(delay=0.03), old_requests=5)
    assert not result["breach"], result
    assert "latency not compared" in result["note"]


def test_too_few_requests_pass_with_a_note() -> None:
    result = verdict(release(), release(failing_every=2), requests=10)
    assert not result["breach"]
    assert result["note"].startswith("10 requests after the switch, fewer than app_watch_min_requests (30)")


def test_the_health_check_and_metrics_do_not_count() -> None:
    new = release(failing_every=2)
    before, after = window(new, 40, path="/health?{}")
    reads = {"old_before": None, "old_after": None, "new_before": before, "new_after": after}
    result = release_watch.watch_verdict(reads, min_requests=MIN, exclude=["/health", "/metrics"])
    assert result["new"]["requests"] == 0
    assert not result["breach"]


def test_without_an_old_window_errors_are_judged_on_the_ratio_alone() -> None:
    new = release(failing_every=3)
    before, after = window(new, MIN)
    reads = {"old_before": None, "old_after": None, "new_before": before, "new_after": after}
    result = release_watch.watch_verdict(reads, min_requests=MIN)
    assert result["breach"]
    assert "the old release: 0%" in result["reason"]


def test_unreadable_counters_are_no_breach() -> None:
    result = release_watch.watch_verdict({"new_before": None, "new_after": {}})
    assert not result["breach"]
    assert "could not be read" in result["note"]


def test_counters_that_went_back_count_from_zero() -> None:
    key = "GET /items/{item_id}"
    before = {key: {"requests": 500.0, "errors": 0.0, "buckets": {"0.005": 500.0, "+Inf": 500.0}}}
    after = {key: {"requests": 40.0, "errors": 20.0, "buckets": {"0.005": 40.0, "+Inf": 40.0}}}
    reads = {"new_before": before, "new_after": after}
    result = release_watch.watch_verdict(reads, min_requests=MIN)
    assert result["new"]["requests"] == 40
    assert result["breach"]


@pytest.mark.parametrize(
    ("buckets", "expected"),
    [
        ({"0.005": 0.0, "0.01": 100.0, "+Inf": 100.0}, 0.005 + 0.005 * 0.95),
        ({"0.005": 50.0, "0.01": 50.0, "0.025": 100.0, "+Inf": 100.0}, 0.01 + 0.015 * 0.9),
        ({"0.005": 10.0, "10.0": 10.0, "+Inf": 100.0}, 10.0),
        ({"0.005": 0.0, "+Inf": 0.0}, None),
    ],
)
def test_p95_as_prometheus_histogram_quantile(buckets: dict, expected: float | None) -> None:
    assert release_watch.quantile(buckets) == (pytest.approx(expected) if expected is not None else None)
