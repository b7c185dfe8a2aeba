"""Benchmark ratios: paired round by round; the default worker count against the sweep's best."""

from __future__ import annotations

import dataclasses

import pytest

from benchlib.report import paired, ratios
from benchlib.serving import Run
from benchlib.wrk import WrkResult


def run(config: str, rounds: list[float], workers: int | None = 3, path: str = "/health") -> Run:
    rps = sorted(rounds)[(len(rounds) - 1) // 2]
    result = WrkResult(
        requests=int(rps * 5), seconds=5.0, rps=rps, p50_ms=1.0, p99_ms=2.0, socket_errors=0, non_2xx=0
    )
    return Run(config, path, workers, result, rounds)


def test_paired_ratio_cancels_a_drift_shared_by_a_round() -> None:
    # The machine is twice as fast in round 2: both configurations move together.
    assert paired([800, 1600, 820], [1000, 2000, 1000]) == pytest.approx(0.8)
    # Unequal round counts: the medians are compared.
    assert paired([800, 900], [1000]) == pytest.approx(0.85)


def test_targets_are_met_or_not_from_the_paired_rounds() -> None:
    out = ratios(
        [
            run("uvicorn", [5000, 4000, 6000], workers=1),
            run("gunicorn", [10000, 8000, 12000]),
            run("deployed", [8000, 7200, 9000]),
        ]
    )
    gain = out["deployment gain (deployed / uvicorn) /health"]
    proxy = out["proxy and TLS cost (deployed / gunicorn) /health"]
    assert (gain["value"], gain["met"]) == (1.6, False)  # the target is 1.8
    # The old proxy-cost target is retired: reported, no target.
    assert (proxy["value"], proxy["target"]) == (0.8, "")


def test_tls_and_proxy_cost_are_split_by_the_plain_listener() -> None:
    out = ratios(
        [
            run("gunicorn", [10000, 8000, 12000]),
            run("deployed-plain", [9000, 7200, 10800]),
            run("deployed", [7200, 5760, 8640]),
        ]
    )
    assert out["TLS cost (deployed / deployed-plain) /health"]["value"] == 0.8
    assert out["proxy cost (deployed-plain / gunicorn) /health"]["value"] == 0.9


def p99_run(config: str, rounds: list[float], p99: float) -> Run:
    base = run(config, rounds)
    return Run(base.config, base.path, base.workers, dataclasses.replace(base.result, p99_ms=p99), rounds)


def test_nginx_front_against_the_best_peer_of_each_round_and_its_p99() -> None:
    runs = [
        p99_run("deployed", [5000, 4000, 6000], 10.0),
        # Caddy is best in rounds 1 and 3, HAProxy in round 2.
        p99_run("caddy", [5000, 3000, 5000], 12.0),
        p99_run("haproxy", [4000, 5000, 4000], 9.0),
    ]
    front = ratios(runs)["nginx front / best of Caddy and HAProxy /health"]
    # Round by round: 1.0, 0.8, 1.2 -> median 1.0; p99 10 ms against Caddy's (best median) 12.
    assert (front["value"], front["met"]) == (1.0, True)
    assert front["target"] == "≥ 1.0, p99 ≤ caddy's"
    runs[0] = p99_run("deployed", [5000, 4000, 6000], 13.0)
    assert ratios(runs)["nginx front / best of Caddy and HAProxy /health"]["met"] is False
    runs[0] = p99_run("deployed", [4000, 4000, 4500], 10.0)
    assert ratios(runs)["nginx front / best of Caddy and HAProxy /health"]["met"] is False


def test_default_worker_count_is_compared_with_each_rounds_best() -> None:
    sweep = [
        run("sweep", [5600, 6900, 6700], workers=1, path="/items/1"),
        run("sweep", [7600, 9200, 9700], workers=2, path="/items/1"),
        run("sweep", [8400, 9700, 8400], workers=3, path="/items/1"),
    ]
    deployed = run("deployed", [7000, 7700, 7800], workers=3, path="/items/1")
    out = ratios([deployed, *sweep])
    # 3 workers are the best in two rounds of three (its median is below 2's, though).
    assert out["default workers (3) / best of the sweep"] == {"value": 1.0, "target": 0.95, "met": True}
    out = ratios([run("deployed", [7000, 7700, 7800], workers=1, path="/items/1"), *sweep])
    assert out["default workers (1) / best of the sweep"]["met"] is False
