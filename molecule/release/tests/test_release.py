"""Releases: versioned directories, a graceful switch under load, rollback, automatic return from a
release whose health check fails, immutable versions, pruning.

The tests build on each other, in this order (base is the version converge deployed):
base -> (base.post0 previewed with --check) -> base.post1 (code-only, under load) -> rollback to base
-> rollback to base.post1 by name
-> base.post2 fails /health, back to base.post1 -> base.post1 with other code refused
-> base.post3 with app_releases_keep 2 prunes base
-> base.post4 with FOO=a -> base.post5 with FOO=b and another worker count -> rollback: the code, the
environment and the worker count of base.post4.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import APP, CA, BackgroundLoad, children, main_pid, settled
from playbook import run_deploy, run_playbook
from variants import app_variant

UNIT = f"{APP}.service"
HOME = f"/opt/{APP}"
RELEASES = f"{HOME}/releases"
WORKERS = 3  # default/inventory/group_vars/app.yml sets app_workers: 3


def link(host, name: str) -> str:
    """Where the `current` or `previous` symlink points (relative: releases/<version>)."""
    return host.check_output(f"readlink {HOME}/{name}")


def version_of(host, name: str) -> str:
    target = link(host, name)
    assert target.startswith("releases/"), target
    return target.removeprefix("releases/")


def installed(host) -> set[str]:
    return set(host.check_output(f"ls -1 {RELEASES}").split())


def served_version(host) -> str:
    """The version /health reports through nginx."""
    body = host.check_output(f"curl -sf --max-time 5 --cacert {CA} https://localhost/health")
    return json.loads(body)["version"]


def flat(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


@pytest.fixture(scope="module")
def base(host) -> str:
    return version_of(host, "current")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("releases")


def test_release_layout_and_unit_go_through_current(host, base):
    assert base == served_version(host)
    release = host.file(f"{RELEASES}/{base}")
    assert (release.user, release.group, release.mode) == ("root", APP, 0o750)
    for name in ("MANIFEST.sha256", "RUNTIME", "venv/bin/python"):
        assert host.file(f"{RELEASES}/{base}/{name}").exists, name
    shared = host.file(f"{HOME}/shared")
    assert shared.is_directory
    assert (shared.user, shared.group, shared.mode) == (APP, APP, 0o750)
    props = host.service(UNIT).systemd_properties
    assert f"{HOME}/current/venv/bin/python -m gunicorn" in props["ExecStart"], props["ExecStart"]
    assert props["WorkingDirectory"] == f"{HOME}/current"
    # In the service's mount namespace shared/ is writable, the releases are not.
    mounts = {}
    for line in host.check_output(f"cat /proc/{main_pid(host, UNIT)}/mountinfo").splitlines():
        fields = line.split()
        mounts[fields[4]] = fields[5].split(",")
    assert "rw" in mounts[f"{HOME}/shared"]
    assert "ro" in mounts["/"]


def test_check_mode_previews_a_release_without_waiting_for_it(host, base, workdir):
    """--check --diff of a new version reports the install and the switch, changes nothing, and does
    not wait for a health check that the unswitched service cannot pass (it used to time out)."""
    preview = f"{base}.post0"
    source = app_variant(workdir / "preview", preview)
    result = run_deploy(host, workdir, {"app_source_dir": str(source)}, "--check", "--diff")
    assert result.returncode == 0, flat(result)[-3000:]
    assert "Switch current to the release" in result.stdout
    assert f"releases/{preview}" in result.stdout, result.stdout[-3000:]
    assert version_of(host, "current") == base
    assert preview not in installed(host)
    assert served_version(host) == base


def test_code_only_release_under_load_reloads_without_a_failed_request(host, base, workdir):
    new = f"{base}.post1"
    master = settled(host, UNIT, WORKERS)
    workers = {pid for pid, _, _ in children(host, master)}
    source = app_variant(workdir / "code-only", new)
    # The dependency wheels (and uv) the converge sent: one set, kept between releases.
    sets = host.check_output(f"ls -1 {HOME}/wheels").split()
    assert len(sets) == 1, sets
    kept = host.check_output(f"stat -c %i {HOME}/wheels/{sets[0]}")

    load = BackgroundLoad(host)
    load.start()
    # The code-only release of README (--tags release): install, validate, switch, reload, health gate.
    result = run_deploy(host, workdir, {"app_source_dir": str(source)}, "--tags", "release")
    stats = load.stop()

    assert result.returncode == 0, flat(result)[-3000:]
    assert "Reload the app service gracefully" in result.stdout
    # test_nginx_snippet.py's failed run left no lock to wait for.
    assert "took the lock after waiting" not in result.stdout
    assert stats.ok > 200, stats.report
    assert stats.failed == 0, stats.report
    # A graceful reload: the same master, only new workers, which import the new release.
    assert settled(host, UNIT, WORKERS) == master
    assert not workers & {pid for pid, _, _ in children(host, master)}
    assert served_version(host) == new
    # Gunicorn re-entered `current` on the reload: the master now sits in the new release.
    # (Read as the app's user: root in the container may not trace other users' processes.)
    cwd = host.check_output(f"runuser -u {APP} -- readlink /proc/{master}/cwd")
    assert cwd == f"{RELEASES}/{new}"
    assert (version_of(host, "current"), version_of(host, "previous")) == (new, base)
    # Pins unchanged: the set was neither sent nor unpacked again, uv made the virtualenv and
    # installed the set's wheels from its cache there, hard-linked with the previous release's.
    assert host.check_output(f"ls -1 {HOME}/wheels").split() == sets
    assert host.check_output(f"stat -c %i {HOME}/wheels/{sets[0]}") == kept
    assert "uv = " in host.file(f"{RELEASES}/{new}/venv/pyvenv.cfg").content_string
    module = "venv/lib/python3*/site-packages/gunicorn/__init__.py"
    inodes = {host.check_output(f"stat -c %i {RELEASES}/{release}/{module}") for release in (base, new)}
    assert len(inodes) == 1, inodes


def test_rollback_returns_to_the_previous_release_and_to_a_named_one(host, base, workdir):
    new = f"{base}.post1"
    master = main_pid(host, UNIT)

    back = run_playbook(host, workdir, {}, "rollback.yml")
    assert back.returncode == 0, flat(back)[-3000:]
    assert served_version(host) == base
    assert (version_of(host, "current"), version_of(host, "previous")) == (base, new)

    named = run_playbook(host, workdir, {}, "rollback.yml", "-e", f"app_rollback_version={new}")
    assert named.returncode == 0, flat(named)[-3000:]
    assert served_version(host) == new
    assert (version_of(host, "current"), version_of(host, "previous")) == (new, base)
    # Same dependencies and Python: both switches were graceful reloads.
    assert main_pid(host, UNIT) == master

    missing = run_playbook(host, workdir, {}, "rollback.yml", "-e", "app_rollback_version=0.0.404")
    assert missing.returncode != 0
    assert f'No release "0.0.404" of {APP} is installed' in flat(missing), flat(missing)[-3000:]
    assert f"Installed releases: {base}, {new}" in flat(missing), flat(missing)[-3000:]
    assert version_of(host, "current") == new


def test_release_failing_its_health_check_is_switched_back(host, base, workdir):
    good, bad = f"{base}.post1", f"{base}.post2"
    source = app_variant(workdir / "unhealthy", bad, healthy=False)

    result = run_deploy(
        host, workdir, {"app_source_dir": str(source), "app_health_timeout": 8}, "--tags", "release"
    )

    output = flat(result)
    assert result.returncode != 0, output[-3000:]
    assert f"Release {bad} of {APP} failed on" in output, output[-3000:]
    assert f"Rolled back to release {good}, which serves again" in output, output[-3000:]
    assert served_version(host) == good
    assert (version_of(host, "current"), version_of(host, "previous")) == (good, base)
    # Kept for inspection.
    assert host.file(f"{RELEASES}/{bad}/MANIFEST.sha256").exists


def test_changed_code_under_an_installed_version_is_refused_before_any_switch(host, base, workdir):
    version = f"{base}.post1"
    source = app_variant(workdir / "same-version", version)
    main = source / "fastapi_demo" / "main.py"
    main.write_text(main.read_text() + "\n# changed without a new version\n")
    master = main_pid(host, UNIT)

    result = run_deploy(host, workdir, {"app_source_dir": str(source)}, "--tags", "release")

    output = flat(result)
    assert result.returncode != 0, output[-3000:]
    assert f"Release {version} is already installed" in output, output[-3000:]
    assert "bump the version" in output, output[-3000:]
    assert version_of(host, "current") == version
    assert main_pid(host, UNIT) == master
    assert served_version(host) == version


def test_pruning_keeps_the_newest_releases_and_the_previous_one(host, base, workdir):
    previous, bad, newest = f"{base}.post1", f"{base}.post2", f"{base}.post3"
    assert installed(host) == {base, previous, bad}
    # The release that becomes the previous one is made the oldest on disk: kept all the same.
    host.run_expect([0], f"touch -d 2001-01-01 {RELEASES}/{previous}")
    source = app_variant(workdir / "newest", newest)

    result = run_deploy(
        host, workdir, {"app_source_dir": str(source), "app_releases_keep": 2}, "--tags", "release"
    )

    assert result.returncode == 0, flat(result)[-3000:]
    # Nobody sent requests: the post-switch watch (3 s here) could not judge, and said so.
    assert "fewer than app_watch_min_requests (100): not judged" in flat(result), flat(result)[-3000:]
    # The newest two (newest, bad) plus the previous one; base, neither, is gone.
    assert installed(host) == {newest, bad, previous}
    assert (version_of(host, "current"), version_of(host, "previous")) == (newest, previous)
    assert served_version(host) == newest


def worker_environment(host, master: int) -> dict[str, str]:
    """The environment of one of the master's workers, from /proc (read as the app's user)."""
    worker = children(host, master)[0][0]
    raw = host.check_output(f"runuser -u {APP} -- cat /proc/{worker}/environ | tr '\\0' '\\n'")
    return dict(line.split("=", 1) for line in raw.splitlines() if "=" in line)


def test_rollback_restores_the_config_and_environment_the_release_ran_with(host, base, workdir):
    """The Gunicorn config and the environment file belong to the release: rolling back from B (FOO=b, one
    more worker) to A brings A's code, A's environment in the workers and A's worker count, under load."""
    a, b = f"{base}.post4", f"{base}.post5"
    secret = "molecule-secret-7c1f04d9"  # default/inventory/group_vars/app.yml

    def deploy(version: str, foo: str, **settings) -> None:
        source = app_variant(workdir / f"config-{version}", version)
        variables = {
            "app_source_dir": str(source),
            "app_environment": {"APP_SECRET_TOKEN": secret, "FOO": foo},
        }
        result = run_deploy(host, workdir, {**variables, **settings})
        assert result.returncode == 0, flat(result)[-3000:]
        assert foo not in result.stdout, "an environment value reached the play's output"

    deploy(a, "foo-a-51c3")
    config_a = link(host, "current-config")
    master = settled(host, UNIT, WORKERS)
    assert worker_environment(host, master)["FOO"] == "foo-a-51c3"

    deploy(b, "foo-b-8e20", app_workers=WORKERS + 1)
    config_b = link(host, "current-config")
    assert config_b != config_a
    assert (version_of(host, "previous"), link(host, "previous-config")) == (a, config_a)
    master = settled(host, UNIT, WORKERS + 1)
    assert worker_environment(host, master)["FOO"] == "foo-b-8e20"
    # A generation is the files the release ran with, as private as the originals.
    for name in ("gunicorn.conf.py", "logging.json", f"{APP}.env"):
        kept = host.file(f"{HOME}/{config_b}/{name}")
        assert (kept.user, kept.group, kept.mode) == ("root", APP, 0o640), name
        assert kept.content_string == host.file(f"/etc/{APP}/{name}").content_string, name

    load = BackgroundLoad(host)
    load.start()
    back = run_playbook(host, workdir, {}, "rollback.yml")
    stats = load.stop()

    assert back.returncode == 0, flat(back)[-3000:]
    assert "foo-" not in back.stdout, "an environment value reached the play's output"
    assert stats.ok > 50, stats.report
    assert stats.failed == 0, stats.report
    assert served_version(host) == a
    assert (link(host, "current-config"), link(host, "previous-config")) == (config_a, config_b)
    master = settled(host, UNIT, WORKERS)
    assert worker_environment(host, master)["FOO"] == "foo-a-51c3"
    env = host.file(f"/etc/{APP}/{APP}.env")
    assert (env.user, env.group, env.mode) == ("root", APP, 0o640)
