"""deploy_observe around apps that have no metrics code: what is counted, how it is labelled, that
workers' counts add up, and the health path it answers for an app without one."""

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
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

import deploy_observe
from deploy_observe import ObserveMiddleware, metrics, release_version
from deploy_observe.routes import RouteTemplates

api = FastAPI()


@api.get("/")
async def read_root() -> dict[str, str]:
    return {"message": "hello"}


@api.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}


async def page(request: object) -> PlainTextResponse:
    return PlainTextResponse("page")


# A plain Starlette app with a mounted sub-router, and a bare ASGI callable with no router at all.
site = Starlette(
    routes=[
        Route("/pages/{slug}", page),
        Mount("/admin", routes=[Route("/users/{user_id:int}", page, methods=["GET"])]),
    ]
)


async def bare(scope: dict, receive: object, send: object) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(ObserveMiddleware(api))


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


def test_the_app_itself_is_untouched(client: TestClient) -> None:
    assert client.get("/items/3").json() == {"item_id": 3}
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
        ("POST", "/metrics", "/metrics", "405"),
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


def scope(path: str, method: str = "GET") -> dict:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


@pytest.mark.parametrize(
    ("path", "method", "template"),
    [
        ("/pages/about", "GET", "/pages/{slug}"),
        ("/admin/users/7", "GET", "/admin/users/{user_id}"),
        ("/admin/users/7", "DELETE", "/admin/users/{user_id}"),
        ("/admin/users/x", "GET", "/admin/{path}"),
        ("/nothing", "GET", "unmatched"),
    ],
)
def test_starlette_templates_mounts_included(path: str, method: str, template: str) -> None:
    templates = RouteTemplates(site)
    assert templates(scope(path, method)) == template
    assert templates(scope(path, method)) == template  # the cached answer is the same


def test_templates_are_found_through_wrapping_middleware_and_a_bare_app_is_unmatched() -> None:
    class Wrapper:
        def __init__(self, app: object) -> None:
            self.app = app

    assert RouteTemplates(Wrapper(Wrapper(api)))(scope("/items/9")) == "/items/{item_id}"
    assert RouteTemplates(bare)(scope("/anything")) == "unmatched"


def test_the_cache_stays_bounded() -> None:
    templates = RouteTemplates(site, cache_size=8)
    for i in range(50):
        assert templates(scope(f"/pages/p{i}")) == "/pages/{slug}"
    assert len(templates._cache) <= 8


def test_a_bare_asgi_app_is_counted_and_scraped() -> None:
    bare_client = TestClient(ObserveMiddleware(bare))  # no lifespan: the bare app speaks http only
    before = count(bare_client, "GET", "unmatched", "204")
    assert bare_client.get("/x").status_code == 204
    assert count(bare_client, "GET", "unmatched", "204") == before + 1


def test_health_path_for_an_app_without_one(tmp_path: Path) -> None:
    health = TestClient(ObserveMiddleware(site, health_path="/health"))
    response = health.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": release_version()}
    assert health.head("/health").status_code == 200
    assert health.post("/health").status_code == 405
    # Without a health path the app answers (here: no such route).
    assert TestClient(ObserveMiddleware(site)).get("/health").status_code == 404


def test_release_version_is_the_release_directory_of_the_venv(tmp_path: Path) -> None:
    venv = tmp_path / "opt" / "app" / "releases" / "2.3.4" / "venv"
    venv.mkdir(parents=True)
    (tmp_path / "opt" / "app" / "current").symlink_to(venv.parent)
    assert release_version(str(tmp_path / "opt" / "app" / "current" / "venv")) == "2.3.4"
    assert release_version(str(tmp_path)) is None


def test_metrics_off_leaves_metrics_to_the_app() -> None:
    own = Starlette(routes=[Route("/metrics", lambda request: PlainTextResponse("app's own"))])
    assert TestClient(ObserveMiddleware(own, metrics=False)).get("/metrics").text == "app's own"


def test_in_progress_gauge_counts_the_running_request_and_an_exception_is_a_500() -> None:
    probe = FastAPI()
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

    with TestClient(ObserveMiddleware(probe), raise_server_exceptions=False) as probe_client:
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
from fastapi import FastAPI
from fastapi.testclient import TestClient
from deploy_observe import ObserveMiddleware
api = FastAPI()
@api.get("/items/{item_id}")
async def read_item(item_id: int) -> dict:
    return {"item_id": item_id}
client = TestClient(ObserveMiddleware(api))
for i in range(int(sys.argv[1])):
    assert client.get(f"/items/{i}").status_code == 200
if len(sys.argv) > 2:
    sys.stdout.write(client.get("/metrics").text)
"""


# The package's source directory, for the separate interpreters.
PACKAGE_PATH = str(Path(deploy_observe.__file__).resolve().parents[1])


def worker_env(multiproc_dir: Path) -> dict[str, str]:
    return {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir), "PYTHONPATH": PACKAGE_PATH}


def run_worker(multiproc_dir: Path, requests: int, *, scrape: bool = False) -> str:
    env = worker_env(multiproc_dir)
    argv = [sys.executable, "-c", WORKER, str(requests)] + (["scrape"] if scrape else [])
    return subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout


def test_multiprocess_counts_add_up_over_processes(tmp_path: Path) -> None:
    multiproc_dir = tmp_path / "metrics"  # created when missing
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

    env = worker_env(tmp_path)
    # A worker that dies in the middle of a request leaves its in-progress count behind...
    crash = (
        "import os\n"
        "from deploy_observe import metrics\n"
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


@pytest.mark.parametrize("attr", ["wsgi", "asgi"])
def test_the_gunicorn_hook_wraps_the_loaded_app_of_either_worker_class(attr: str) -> None:
    class Worker:
        pass

    worker = Worker()
    setattr(worker, attr, site)
    deploy_observe.wrap_worker_app(worker, health_path="/up")
    wrapped = getattr(worker, attr)
    assert isinstance(wrapped, ObserveMiddleware)
    assert wrapped.app is site
    assert TestClient(wrapped).get("/up").json()["status"] == "ok"


def test_the_uvicorn_factory_wraps_the_app_the_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from deploy_observe import factory

    monkeypatch.setenv("DEPLOY_OBSERVE_APP", "fastapi_demo.main:app")
    monkeypatch.setenv("DEPLOY_OBSERVE_METRICS", "0")
    monkeypatch.setenv("DEPLOY_OBSERVE_HEALTH_PATH", "/up")
    wrapped = factory.app()
    assert isinstance(wrapped, ObserveMiddleware)
    assert (wrapped.metrics, wrapped.health_path) == (False, "/up")
    from fastapi_demo.main import app as demo

    assert wrapped.app is demo
    assert TestClient(wrapped).get("/up").json()["status"] == "ok"
