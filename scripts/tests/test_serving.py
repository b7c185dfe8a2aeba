"""The benchmark's rounds: each figure is the median round, errors of every round count."""

from __future__ import annotations

from benchlib.serving import Run, median_runs
from benchlib.wrk import WrkResult


def result(rps: float, errors: int = 0) -> WrkResult:
    return WrkResult(
        requests=int(rps * 5),
        seconds=5.0,
        rps=rps,
        p50_ms=1.0,
        p99_ms=rps / 1000,
        socket_errors=errors,
        non_2xx=0,
    )


def test_median_round_is_kept_with_every_rounds_figure_and_error() -> None:
    runs = [
        Run("gunicorn", "/health", 3, result(9000)),
        Run("deployed", "/health", 3, result(7000, errors=2)),
        Run("gunicorn", "/health", 3, result(11000)),
        Run("deployed", "/health", 3, result(8000)),
        Run("gunicorn", "/health", 3, result(10000)),
        Run("deployed", "/health", 3, result(6000, errors=1)),
    ]
    gunicorn, deployed = median_runs(runs)
    assert (gunicorn.config, gunicorn.result.rps, gunicorn.result.p99_ms) == ("gunicorn", 10000, 10.0)
    assert gunicorn.rounds == [9000, 11000, 10000]
    assert (deployed.config, deployed.result.rps, deployed.errors) == ("deployed", 7000, 3)


def test_even_number_of_rounds_keeps_the_lower_middle() -> None:
    runs = [Run("sweep", "/items/1", n, result(rps)) for n, rps in ((1, 500), (1, 700), (2, 900), (2, 800))]
    assert [(r.workers, r.result.rps) for r in median_runs(runs)] == [(1, 500), (2, 800)]
