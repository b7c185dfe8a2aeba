"""A project as it is, against a real PostgreSQL: examples/shelf (uv.lock, alembic.ini, no server in
its lock) on two Debian 13 app hosts, then examples/notes (poetry.lock) beside it.

In order (converge deployed v1): v1 runs from its tree (migrations from alembic.ini, its data
directory, its routers' templates in the metrics, no .env shipped); v2, deployed under load one app host
at a time, adds a column and uses it; rollback.yml returns to v1 under load, on v2's expanded schema;
v3's failing migration is refused before any host switched; v3 fixed under the same version deploys
(a release that never served is installed again, no hand step); notes, locked with Poetry, deploys as a
second app with its own pins winning over the server's.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

from helpers import BackgroundLoad
from playbook import ansible_playbook

APP = "shelf"
PORT = 8000
MIGRATE = "alembic upgrade head"
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
VARIANTS = PROJECT / "build" / "molecule-database"
AUDIT = f"/var/lib/fastapi-deploy/{APP}.audit.jsonl"
LOCK = f"/var/lib/fastapi-deploy/{APP}.lock"
ITEMS = "/api/v1/items/"


def psql(db, sql: str, database: str = APP) -> str:
    return db.check_output(
        f"runuser -u postgres -- psql -d {database} -v ON_ERROR_STOP=1 -Atc {shlex.quote(sql)}"
    )


def columns(db) -> list[str]:
    return psql(
        db,
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = 'item' ORDER BY ordinal_position",
    ).split()


def revision(db) -> str:
    return psql(db, "SELECT version_num FROM alembic_version")


def address(host) -> str:
    return host.check_output("hostname -I").split()[0]


def served_versions(web, apps, port: int = PORT) -> list[str]:
    """The version each app host's own /health reports (from the web host, as nginx reaches them)."""
    return [
        json.loads(web.check_output(f"curl -sf --max-time 5 http://{address(app)}:{port}/health"))["version"]
        for app in apps
    ]


def api(web, method: str, path: str, body: dict | None = None, host: str = "localhost"):
    data = f"-H 'Content-Type: application/json' -d {shlex.quote(json.dumps(body))}" if body else ""
    return json.loads(
        web.check_output(
            f"curl -sf --max-time 10 -H 'Host: {host}' -X {method} {data} http://localhost{path}"
        )
    )


def current(host, app: str = APP) -> str:
    return host.check_output(f"readlink /opt/{app}/current")


def deploy(variant: str, *extra: str):
    """playbooks/deploy.yml with one of tests/shelf_variants.py's versions, one app host at a time."""
    return ansible_playbook(
        "deploy.yml", "-e", f"app_source_dir={VARIANTS / variant}", "-e", "deploy_serial=1", *extra
    )


def last_audit(host) -> dict:
    return json.loads(host.check_output(f"tail -n 1 {AUDIT}"))


def flat(result) -> str:
    """The play's output on one line, with the quotes of its JSON messages unescaped."""
    return " ".join((result.stdout + result.stderr).split()).replace('\\"', '"')


def load(web) -> BackgroundLoad:
    background = BackgroundLoad(web, url=f"http://localhost{ITEMS}?limit=5", connections=8, rate=10)
    background.start()
    return background


def test_v1_runs_from_the_projects_tree_with_its_lock_and_the_server_added(web, apps, db):
    assert served_versions(web, apps) == ["0.1.0", "0.1.0"]
    # `alembic upgrade head` ran from the release's tree (alembic.ini, alembic/), once.
    assert revision(db) == "0001"
    assert columns(db) == ["title", "description", "id"]
    for app in apps:
        release = f"/opt/{APP}/current"
        for path in ("alembic.ini", "alembic/versions/0001_create_item.py", "data/categories.json"):
            assert app.file(f"{release}/{path}").is_file, path
        # The committed .env holds placeholder secrets: never shipped (with it the app would refuse
        # to start in production), and nothing of a developer's tree beside it.
        assert not app.file(f"{release}/.env").exists
        assert not app.file(f"{release}/.venv").exists
        runtime = app.file(f"{release}/RUNTIME").content_string
        # The lock's pins, docopt (an sdist, built into a wheel) among them, and the server it lacks.
        assert re.search(r"^docopt==0\.6\.2$", runtime, re.M), runtime
        assert re.search(r"^gunicorn==", runtime, re.M), runtime
        assert re.search(r"^uvicorn-worker==", runtime, re.M), runtime
        assert "pytest" not in runtime  # a dev group
        master = app.check_output(f"systemctl show -p MainPID --value {APP}.service")
        assert "gunicorn" in app.check_output(f"ps -o args= -p {master}")
        # The working directory is the release's tree, as the project expects.
        cwd = app.check_output(f"runuser -u {APP} -- readlink /proc/{master}/cwd")
        assert cwd == f"/opt/{APP}/releases/0.1.0"

    item = api(web, "POST", ITEMS, {"title": "written by v1"})
    assert api(web, "GET", f"{ITEMS}{item['id']}") == item
    assert api(web, "GET", ITEMS)["count"] == 1
    # Read from data/ relative to the working directory, on every request.
    categories = json.loads((PROJECT / "examples/shelf/data/categories.json").read_text())
    assert api(web, "GET", "/api/v1/categories/") == categories

    # Every route of the included routers counted by its prefixed template, none as unmatched.
    routes = set()
    for app in apps:
        metrics = web.check_output(f"curl -sf --max-time 5 http://{address(app)}:{PORT}/metrics")
        routes |= set(re.findall(r'^http_requests_total\{[^}]*route="([^"]+)"', metrics, re.M))
    assert {"/api/v1/items/", "/api/v1/items/{item_id}", "/api/v1/categories/"} <= routes, routes
    assert not [r for r in routes if item["id"] in r], routes
    assert "unmatched" not in routes, routes


def test_v2_adds_a_column_and_uses_it_under_load(web, apps, db):
    background = load(web)
    result = deploy("v2")
    stats = background.stop(tail=2)

    assert result.returncode == 0, flat(result)[-3000:]
    assert stats.ok > 100, stats.report
    assert stats.failed == 0, stats.report
    assert served_versions(web, apps) == ["0.2.0", "0.2.0"]
    assert revision(db) == "0002"
    assert columns(db) == ["title", "description", "id", "priority"]
    # Once per deploy, though the hosts went in two batches; in every host's audit line.
    assert result.stdout.count(f"$ {MIGRATE}") == 1, result.stdout[-3000:]
    for app in apps:
        entry = last_audit(app)
        assert (entry["to_version"], entry["result"]) == ("0.2.0", "ok"), entry
        (run,) = entry["release_commands"]
        assert (run["command"], run["rc"]) == (MIGRATE, 0), entry
        assert "molecule-db-4f2a9e61" not in json.dumps(entry), entry
    item = api(web, "POST", ITEMS, {"title": "written by v2", "priority": 5})
    assert item["priority"] == 5
    assert psql(db, "SELECT priority FROM item WHERE title = 'written by v1'") == "0"


def test_rollback_to_v1_serves_on_the_expanded_schema_under_load(web, apps, db):
    background = load(web)
    result = ansible_playbook("rollback.yml", "-e", "deploy_serial=1")
    stats = background.stop(tail=2)

    assert result.returncode == 0, flat(result)[-3000:]
    assert stats.failed == 0, stats.report
    assert stats.ok > 50, stats.report
    assert served_versions(web, apps) == ["0.1.0", "0.1.0"]
    assert [current(app) for app in apps] == ["releases/0.1.0", "releases/0.1.0"]
    # Expand, then contract: v1's code runs on v2's schema (the new column has a default).
    assert revision(db) == "0002"
    assert api(web, "GET", ITEMS)["count"] == 2
    api(web, "POST", ITEMS, {"title": "written by v1 after the rollback"})
    assert psql(db, "SELECT priority FROM item WHERE title = 'written by v1 after the rollback'") == "0"


def test_v3s_failing_migration_is_refused_then_v3_fixed_deploys_under_the_same_version(web, apps, db):
    background = load(web)
    # One failed host per batch allowed: the first batch's one host failing still ends the run.
    result = deploy("v3", "-e", "deploy_max_fail_percentage=50")
    stats = background.stop(tail=2)

    output = flat(result)
    assert result.returncode != 0, output[-3000:]
    assert f'Release command "{MIGRATE}" failed with exit code 1' in output, output[-3000:]
    assert "before any host switched" in output, output[-3000:]
    assert "division by zero" in output, output[-3000:]
    assert stats.failed == 0, stats.report
    assert served_versions(web, apps) == ["0.1.0", "0.1.0"]
    assert apps[0].file(f"/opt/{APP}/releases/0.3.0/MANIFEST.sha256").exists
    # The failed upgrade was rolled back whole.
    assert revision(db) == "0002"
    assert columns(db) == ["title", "description", "id", "priority"]
    for app in apps:
        assert not app.file(LOCK).exists, app.check_output(f"cat {LOCK}")

    # The same version, fixed: release 0.3.0 never served, so it is installed again over.
    result = deploy("v3-fixed")
    output = flat(result)
    assert result.returncode == 0, output[-3000:]
    assert "already installed" not in output
    assert served_versions(web, apps) == ["0.3.0", "0.3.0"]
    assert revision(db) == "0003"
    assert columns(db) == ["title", "description", "id", "priority", "rating"]
    assert api(web, "GET", ITEMS)["count"] == 3


def test_a_poetry_locked_app_deploys_beside_it_with_its_own_pins(web, apps, db, tmp_path):
    password = "molecule-db-4f2a9e61"
    settings = {
        "app_name": "notes",
        "app_source_dir": str(PROJECT / "examples/notes"),
        "app_wheelhouse_controller_dir": str(VARIANTS / "wheelhouse/notes"),
        "app_module": "notes.main:app",
        "app_port": 8001,
        "app_health_builtin": False,
        "app_environment": {
            "NOTES_DATABASE_URL": f"postgresql+psycopg://notes:{password}@{db.check_output('hostname')}/notes"
        },
        "app_release_commands": ["python -m notes.migrate upgrade head"],
        "app_rollback_commands": [],
        "nginx_server_names": ["notes.test"],
        "nginx_metrics_port": 8083,
    }
    extra = tmp_path / "notes.json"
    extra.write_text(json.dumps(settings))
    result = ansible_playbook("deploy.yml", "-e", f"@{extra}")

    assert result.returncode == 0, flat(result)[-3000:]
    assert served_versions(web, apps, port=8001) == ["2.0.0", "2.0.0"]
    note = api(web, "POST", "/notes", {"body": "beside shelf", "author": "ada"}, host="notes.test")
    assert api(web, "GET", "/notes?limit=1", host="notes.test") == [note]
    for app in apps:
        runtime = app.file("/opt/notes/current/RUNTIME").content_string
        # poetry.lock pins uvicorn 0.55.0: the app's own pin wins over the server's (0.54.0).
        assert re.search(r"^uvicorn==0\.55\.0$", runtime, re.M), runtime
        assert re.search(r"^psycopg-binary==", runtime, re.M), runtime
    # The first app untouched.
    assert served_versions(web, apps) == ["0.3.0", "0.3.0"]
    assert api(web, "GET", ITEMS)["count"] == 3
