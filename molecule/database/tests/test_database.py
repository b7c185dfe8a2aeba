"""Release commands against a real PostgreSQL: migrations once per deploy, before any host switches.

In order (converge deployed v1): v1 created its table; v2, deployed under load one app host at a time,
adds a column and uses it; v3's failing migration is refused before any host switched, and v2 keeps
serving with its data. The migration runs are counted in the database (notes.migrate records each); every
app host's audit line carries the migration's exit code and last lines, and v3's failure (in a run allowed
a failed host per batch, the batch that failed ends it) releases both hosts' deploy locks.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from helpers import BackgroundLoad
from playbook import ansible_playbook

APP = "notes"
PORT = 8000
MIGRATE = "python -m notes.migrate upgrade head"
VARIANTS = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "build" / "molecule-database"
LOCK = f"/var/lib/fastapi-deploy/{APP}.lock"
AUDIT = f"/var/lib/fastapi-deploy/{APP}.audit.jsonl"


def psql(db, sql: str) -> str:
    return db.check_output(f"runuser -u postgres -- psql -d notes -v ON_ERROR_STOP=1 -Atc {shlex.quote(sql)}")


def columns(db) -> list[str]:
    return psql(
        db,
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = 'notes' ORDER BY ordinal_position",
    ).split()


def migration_runs(db) -> list[str]:
    """One line per recorded upgrade: host|from|to."""
    return psql(
        db,
        "SELECT host || '|' || coalesce(from_revision, '') || '|' || to_revision"
        " FROM migration_runs ORDER BY id",
    ).split()


def address(host) -> str:
    return host.check_output("hostname -I").split()[0]


def served_versions(web, apps) -> list[str]:
    """The version each app host's own /health reports (from the web host, as nginx reaches them)."""
    versions = []
    for app in apps:
        body = web.check_output(f"curl -sf --max-time 5 http://{address(app)}:{PORT}/health")
        versions.append(json.loads(body)["version"])
    return versions


def current(host) -> str:
    return host.check_output(f"readlink /opt/{APP}/current")


def api(web, method: str, path: str, body: dict | None = None):
    data = f"-H 'Content-Type: application/json' -d {shlex.quote(json.dumps(body))}" if body else ""
    return json.loads(web.check_output(f"curl -sf --max-time 5 -X {method} {data} http://localhost{path}"))


def deploy(variant: str, *extra: str):
    """playbooks/deploy.yml with one of tests/notes_variants.py's versions, one app host at a time."""
    return ansible_playbook(
        "deploy.yml", "-e", f"app_source_dir={VARIANTS / variant}", "-e", "deploy_serial=1", *extra
    )


def last_audit(host) -> dict:
    return json.loads(host.check_output(f"tail -n 1 {AUDIT}"))


def flat(result) -> str:
    """The play's output on one line, with the quotes of its JSON messages unescaped."""
    return " ".join((result.stdout + result.stderr).split()).replace('\\"', '"')


def test_v1_created_its_table_and_reads_and_writes_it(web, apps, db):
    assert served_versions(web, apps) == ["1.0.0", "1.0.0"]
    assert columns(db) == ["id", "body", "created_at"]
    assert psql(db, "SELECT version_num FROM alembic_version") == "0001"
    # Converge migrated once, on the first app host; its second run (idempotence) switched nothing.
    (run,) = migration_runs(db)
    assert run.split("|") == [apps[0].check_output("hostname"), "", "0001"]
    note = api(web, "POST", "/notes", {"body": "written by v1"})
    assert api(web, "GET", "/notes")[0] == note
    assert "author" not in note


def test_v2_adds_a_column_and_uses_it_under_load(web, apps, db):
    before = int(psql(db, "SELECT count(*) FROM notes"))
    load = BackgroundLoad(web, url="http://localhost/notes?limit=5", connections=8, rate=10)
    load.start()
    result = deploy("v2")
    stats = load.stop(tail=2)

    assert result.returncode == 0, flat(result)[-3000:]
    assert stats.ok > 100, stats.report
    assert stats.failed == 0, stats.report
    assert served_versions(web, apps) == ["2.0.0", "2.0.0"]
    # Once per deploy, though the hosts went in two batches: one more recorded run, in the play's output once.
    runs = migration_runs(db)
    assert len(runs) == 2, runs
    assert runs[1].split("|") == [apps[0].check_output("hostname"), "0001", "0002"]
    assert result.stdout.count(f"$ {MIGRATE}") == 1, result.stdout[-3000:]
    # And in the audit line of every host of the run: the command, its exit code, its last lines.
    for app in apps:
        entry = last_audit(app)
        assert (entry["to_version"], entry["result"]) == ("2.0.0", "ok"), entry
        (run,) = entry["release_commands"]
        assert (run["command"], run["rc"]) == (MIGRATE, 0), entry
        assert "database at 0002 (was 0001)" in run["tail"], entry
        assert "molecule-db-4f2a9e61" not in json.dumps(entry), entry
    assert columns(db) == ["id", "body", "created_at", "author"]
    # The rows v1 wrote got the column's default; v2 writes and reads it.
    assert psql(db, "SELECT count(*) FROM notes WHERE author = 'anonymous'") == str(before)
    note = api(web, "POST", "/notes", {"body": "written by v2", "author": "ada"})
    assert note["author"] == "ada"
    assert api(web, "GET", "/notes?limit=1") == [note]


def test_v3_failing_migration_is_refused_and_v2_keeps_serving(web, apps, db):
    notes_before = psql(db, "SELECT id || '|' || author || '|' || body FROM notes ORDER BY id")
    load = BackgroundLoad(web, url="http://localhost/notes?limit=5", connections=8, rate=10)
    load.start()
    # One failed host per batch allowed: the first batch's one host failing still ends the run, which
    # then releases the locks of every host, the second app host's included (no later play runs).
    result = deploy("v3", "-e", "deploy_max_fail_percentage=50")
    stats = load.stop(tail=2)

    output = flat(result)
    assert result.returncode != 0, output[-3000:]
    assert f'Release command "{MIGRATE}" failed with exit code 1' in output, output[-3000:]
    assert "before any host switched" in output, output[-3000:]
    assert "division by zero" in output, output[-3000:]
    assert stats.failed == 0, stats.report
    assert stats.ok > 50, stats.report
    # No host switched: v3 is installed on the first app host only, the second never started.
    assert served_versions(web, apps) == ["2.0.0", "2.0.0"]
    assert [current(app) for app in apps] == ["releases/2.0.0", "releases/2.0.0"]
    assert apps[0].file(f"/opt/{APP}/releases/3.0.0/MANIFEST.sha256").exists
    assert not apps[1].file(f"/opt/{APP}/releases/3.0.0").exists
    # The upgrade was rolled back whole: schema, revision, data and the run count are v2's.
    assert columns(db) == ["id", "body", "created_at", "author"]
    assert psql(db, "SELECT version_num FROM alembic_version") == "0002"
    assert psql(db, "SELECT id || '|' || author || '|' || body FROM notes ORDER BY id") == notes_before
    assert len(migration_runs(db)) == 2
    assert api(web, "GET", "/notes?limit=1")[0]["body"] == "written by v2"
    # No lock left behind; each host's audit line records the failed run and the failed migration.
    first = apps[0].ansible.get_variables()["inventory_hostname"]
    for app in apps:
        assert not app.file(LOCK).exists, app.check_output(f"cat {LOCK}")
        entry = last_audit(app)
        assert (entry["to_version"], entry["result"]) == ("3.0.0", "failed"), entry
        assert entry["failed_host"] == first, entry
        (run,) = entry["release_commands"]
        assert (run["command"], run["rc"]) == (MIGRATE, 1), entry
        assert any("division by zero" in line for line in run["tail"]), entry
