"""/metrics: what is counted, how it is labelled, and that workers' counts add up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from fastapi_demo import metrics
from fastapi_demo.main import app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app)


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """{sorted label pairs: value} of one sample name in an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def count(client: TestClient, method: str, route: str, status: str) -> float:
    labels = (("method", method), ("route", route), ("status", status))
    return samples(client.get("/metrics").text, "http_requests_total").get(labels, 0.0)


def test_metrics_is_prometheus_text(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {"http_requests", "http_request_duration_seconds", "http_requests_in_progress"} <= names


def test_metrics_is_not_in_the_openapi_schema(client: TestClient) -> None:
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_requests_are_counted_by_route_template_not_raw_path(client: TestClient) -> None:
    before = count(client, "GET", "/items/{item_id}", "200")
    for item_id in range(17):
        assert client.get(f"/items/{item_id}").status_code == 200
    assert count(client, "GET", "/items/{item_id}", "200") == before + 17
    assert '"/items/5"' not in client.get("/metrics").text


def test_latency_histogram_counts_every_request(client: TestClient) -> None:
    def observed() -> float:
        text = client.get("/metrics").text
        return samples(text, "http_request_duration_seconds_count").get(
            (("method", "GET"), ("route", "/")), 0.0
        )

    before = observed()
    for _ in range(3):
        client.get("/")
    assert observed() == before + 3


@pytest.mark.parametrize(
    ("method", "path", "route", "status"),
    [
        ("GET", "/items/abc", "/items/{item_id}", "422"),
        ("POST", "/items/1", "/items/{item_id}", "405"),
        ("GET", "/does/not/exist", "unmatched", "404"),
        ("BREW", "/", "/", "405"),
    ],
)
def test_status_and_bounded_labels(
    client: TestClient, method: str, path: str, route: str, status: str
) -> None:
    label = metrics.method_label(method)
    before = count(client, label, route, status)
    assert client.request(method, path).status_code == int(status)
    assert count(client, label, route, status) == before + 1


def test_unknown_paths_and_methods_create_no_new_label_values(client: TestClient) -> None:
    for i in range(25):
        client.get(f"/random-{i}/path")
        client.request(f"X{i}", "/")
    text = client.get("/metrics").text
    routes = {dict(labels)["route"] for labels in samples(text, "http_requests_total")}
    methods = {dict(labels)["method"] for labels in samples(text, "http_requests_total")}
    assert not [r for r in routes if r.startswith("/random-")]
    assert "unmatched" in routes
    assert methods <= metrics.KNOWN_METHODS | {metrics.OTHER}


def test_in_progress_gauge_counts_the_running_request_and_an_exception_is_a_500() -> None:
    probe = FastAPI()
    probe.add_middleware(metrics.PrometheusMiddleware, routes=probe.router.routes)
    seen: list[float | None] = []

    @probe.get("/probe/{n}")
    async def read_gauge(n: int) -> dict[str, int]:
        seen.append(
            REGISTRY.get_sample_value("http_requests_in_progress", {"method": "GET", "route": "/probe/{n}"})
        )
        if n == 0:
            raise RuntimeError("boom")
        return {"n": n}

    def errors() -> float:
        labels = {"method": "GET", "route": "/probe/{n}", "status": "500"}
        return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0

    with TestClient(probe, raise_server_exceptions=False) as probe_client:
        assert probe_client.get("/probe/1").status_code == 200
        before = errors()
        assert probe_client.get("/probe/0").status_code == 500
    assert seen == [1.0, 1.0]
    assert errors() == before + 1
    after = REGISTRY.get_sample_value("http_requests_in_progress", {"method": "GET", "route": "/probe/{n}"})
    assert after == 0.0


# A separate interpreter per "worker": multiprocess mode is chosen when prometheus_client is imported.
WORKER = """
import sys
from fastapi.testclient import TestClient
from fastapi_demo.main import app
client = TestClient(app)
for i in range(int(sys.argv[1])):
    assert client.get(f"/items/{i}").status_code == 200
if len(sys.argv) > 2:
    sys.stdout.write(client.get("/metrics").text)
"""


def run_worker(multiproc_dir: Path, requests: int, *, scrape: bool = False) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir)}
    argv = [sys.executable, "-c", WORKER, str(requests)] + (["scrape"] if scrape else [])
    return subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout


def test_multiprocess_counts_add_up_over_processes(tmp_path: Path) -> None:
    multiproc_dir = tmp_path / "metrics"  # created by the app when missing
    run_worker(multiproc_dir, 7)
    run_worker(multiproc_dir, 5)
    text = run_worker(multiproc_dir, 3, scrape=True)
    total = samples(text, "http_requests_total")
    assert total[(("method", "GET"), ("route", "/items/{item_id}"), ("status", "200"))] == 15
    # Per-process collectors would describe only the answering worker: not exported.
    assert "process_resident_memory_bytes" not in text
    assert len(list(multiproc_dir.glob("counter_*.db"))) == 3


def test_dead_workers_stop_counting_in_progress(tmp_path: Path) -> None:
    from prometheus_client import multiprocess

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    # A worker that dies in the middle of a request leaves its in-progress count behind...
    crash = (
        "import os\n"
        "from fastapi_demo import metrics\n"
        "metrics.IN_PROGRESS.labels('GET', '/').inc()\n"
        "print(os.getpid(), flush=True)\n"
        "os._exit(1)\n"
    )
    result = subprocess.run([sys.executable, "-c", crash], env=env, capture_output=True, text=True)
    dead_pid = int(result.stdout)
    labels = (("method", "GET"), ("route", "/"))

    def in_progress() -> float:
        return samples(run_worker(tmp_path, 0, scrape=True), "http_requests_in_progress").get(labels, 0.0)

    assert in_progress() == 1.0
    # ...until Gunicorn's child_exit hook marks it dead.
    multiprocess.mark_process_dead(dead_pid, path=str(tmp_path))
    assert in_progress() == 0.0
