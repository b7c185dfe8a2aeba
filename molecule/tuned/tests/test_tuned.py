"""Non-default server settings land in the running services."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from helpers import children, http_get, main_pid
from playbook import run_deploy
from variants import app_variant

GUNICORN = "tuned-gunicorn"
UVICORN = "tuned-uvicorn"
WORKERS = 2  # molecule.yml sets app_workers: 2


def test_tcp_socket_is_owned_by_systemd_and_answers(host):
    assert host.socket("tcp://127.0.0.1:8001").is_listening
    props = host.service(f"{GUNICORN}.socket").systemd_properties
    assert props["Listen"] == "127.0.0.1:8001 (Stream)"
    response = http_get(host, "http://127.0.0.1:8001/health")
    assert response.status == 200
    assert response.headers["server"] == "uvicorn"


def test_gunicorn_workers_run_h11_on_asyncio(host):
    master = main_pid(host, f"{GUNICORN}.service")
    workers = children(host, master)
    assert len(workers) == WORKERS, workers
    # Uvicorn's only HTTP implementations are httptools and h11, and its only
    # loops uvloop and asyncio: workers that serve without loading httptools
    # or uvloop run h11 on asyncio.
    assert http_get(host, "http://127.0.0.1:8001/health").status == 200
    for pid, _, _ in workers:
        maps = host.check_output(f"cat /proc/{pid}/maps")
        assert "python" in maps, pid
        assert "httptools" not in maps, pid
        assert "uvloop" not in maps, pid


def test_limit_concurrency_gives_immediate_503s_beyond_it(host):
    report = host.check_output("hey -n 400 -c 40 http://127.0.0.1:8001/")
    assert "[503]" in report, report
    assert "[200]" in report, report


def test_tuned_app_through_nginx_by_host_name(host):
    response = http_get(host, "http://localhost/", host_header="gunicorn.test")
    assert response.status == 200
    assert response.json() == {"message": "Hello from FastAPI!"}


def test_no_access_log_lines_when_disabled(host):
    http_get(host, "http://localhost/items/777", host_header="gunicorn.test")
    out = host.check_output(f"journalctl -u {GUNICORN}.service --no-pager -o cat")
    assert "/items/777" not in out


def test_cpu_quota_lands(host):
    props = host.service(f"{GUNICORN}.service").systemd_properties
    assert props["CPUQuotaPerSecUSec"] == "1.500000s"


def test_uvicorn_mode_runs_uvicorn_with_its_workers(host):
    props = host.service(f"{UVICORN}.service").systemd_properties
    assert props["Type"] == "exec"
    main = main_pid(host, f"{UVICORN}.service")
    args = host.check_output(f"ps -o args= -p {main}")
    assert "/current/venv/bin/python -m uvicorn" in args
    assert "--workers 2" in args
    assert "gunicorn" not in host.check_output(f"ps -o args= --ppid {main}")
    workers = [row for row in children(host, main) if "resource_tracker" not in row[2]]
    assert len(workers) == WORKERS, workers


def test_uvicorn_mode_serves_through_nginx(host):
    response = http_get(host, "http://localhost/health", host_header="uvicorn.test")
    assert response.status == 200
    assert response.headers["server"] == "nginx"
    assert json.loads(response.body)["status"] == "ok"


def test_uvicorn_mode_restarts_onto_a_new_release(host, tmp_path):
    # Stock Uvicorn has no graceful reload of new code: a release switch restarts it.
    plays = yaml.safe_load((Path(__file__).resolve().parents[1] / "converge.yml").read_text())
    settings = next(play["vars"] for play in plays if play["name"] == "Deploy the app in uvicorn mode")
    base = host.check_output(f"readlink /opt/{UVICORN}/current").removeprefix("releases/")
    new = f"{base}.post1"
    before = main_pid(host, f"{UVICORN}.service")

    source = app_variant(tmp_path / "app", new)
    result = run_deploy(host, tmp_path, {**settings, "app_source_dir": str(source)}, "--tags", "release")

    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "Restart the app service" in result.stdout
    assert main_pid(host, f"{UVICORN}.service") not in (0, before)
    assert host.check_output(f"readlink /opt/{UVICORN}/current") == f"releases/{new}"
    response = http_get(host, "http://localhost/health", host_header="uvicorn.test")
    assert json.loads(response.body)["version"] == new


def test_uvicorn_mode_counts_requests_by_route_template_over_its_workers(host):
    """Uvicorn runs deploy_observe's factory around the app: /metrics merges both workers' counts."""
    main = main_pid(host, f"{UVICORN}.service")
    assert "--factory deploy_observe.factory:app" in host.check_output(f"ps -o args= -p {main}")

    def items_served() -> float:
        text = http_get(host, "http://127.0.0.1:8083/metrics").body
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("http_requests_total{")
            and 'route="/items/{item_id}"' in line
            and 'status="200"' in line
        )

    before = items_served()
    for item in range(20):
        assert http_get(host, f"http://localhost/items/{item}", host_header="uvicorn.test").status == 200
    assert items_served() == before + 20
    assert "/items/7" not in http_get(host, "http://127.0.0.1:8083/metrics").body
