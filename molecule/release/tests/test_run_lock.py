"""The deploy lock, the audit log, playbooks/releases.yml and maintenance mode.

Runs after test_release.py (file order), on the releases it left: its deploys, rollbacks and the
release switched back are in the audit log. Then, in this order: --check beside a held lock and
unlock.yml; maintenance mode on under load; two concurrent deploys (one stops naming the other)
with the mode left on; the audit log rotated, then maintenance off under load; a deploy killed with
SIGKILL, then one that takes the expired lock over; releases.yml.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest
import yaml

from helpers import APP, CA, BackgroundLoad, wait_for
from playbook import PLAYBOOKS, VENV_BIN
from variants import app_variant

STATE = "/var/lib/fastapi-deploy"
LOCK = f"{STATE}/{APP}.lock"
AUDIT = f"{STATE}/{APP}.audit.jsonl"
RELEASES = f"/opt/{APP}/releases"
AUDIT_FIELDS = {
    "time", "host", "action", "user", "controller", "playbook", "ci_job",
    "from_version", "to_version", "config_id", "result", "seconds",
}  # fmt: skip


def flat(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


def audit(host) -> list[dict]:
    return [json.loads(line) for line in host.check_output(f"cat {AUDIT}").splitlines()]


def current(host) -> str:
    return host.check_output(f"readlink /opt/{APP}/current").removeprefix("releases/")


def playbook_command(host, workdir: Path, host_vars: dict, playbook: str, *extra: str) -> list[str]:
    name = host.ansible.get_variables()["inventory_hostname"]
    inventory = workdir / f"host_vars-{playbook}-{len(list(workdir.iterdir()))}.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {name: host_vars}}}))
    return [
        str(VENV_BIN / "ansible-playbook"),
        "--inventory",
        str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent),
        "--inventory",
        str(inventory),
        *extra,
        str(PLAYBOOKS / playbook),
    ]


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }


def run(host, workdir: Path, host_vars: dict, playbook: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = playbook_command(host, workdir, host_vars, playbook, *extra)
    return subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=900, env=environment()
    )


def start(
    host, workdir: Path, host_vars: dict, playbook: str, *extra: str
) -> tuple[subprocess.Popen, IO[str]]:
    """The playbook in the background, in a process group of its own (killed whole with SIGKILL)."""
    command = playbook_command(host, workdir, host_vars, playbook, *extra)
    # To a file: a pipe nobody reads while the test goes on would stall the run.
    log = (workdir / f"background-{len(list(workdir.iterdir()))}.log").open("w+")
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment(),
        start_new_session=True,
    )
    return process, log


def lock_holder(host) -> dict | None:
    found = host.run(f"cat {LOCK}")
    return json.loads(found.stdout) if found.rc == 0 and found.stdout.strip() else None


def statuses(report: str) -> tuple[dict[str, int], int]:
    """hey's responses per status, and its transport errors."""
    codes = dict(re.findall(r"\s+\[(\d+)\]\s+(\d+)\s+responses", report))
    errors = report.split("Error distribution:", 1)[1] if "Error distribution:" in report else ""
    return {code: int(count) for code, count in codes.items()}, sum(
        int(n) for n in re.findall(r"^\s+\[(\d+)\]", errors, re.MULTILINE)
    )


def curl(host, path: str, address: str = "127.0.0.1") -> tuple[int, dict[str, str], str]:
    out = host.check_output(
        f"curl -s -i --max-time 5 --cacert {CA} --resolve localhost:443:{address} https://localhost{path}"
    )
    head, _, body = out.replace("\r\n", "\n").partition("\n\n")
    lines = head.splitlines()
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def toggle_under_load(host, workdir: Path, maintenance_vars: dict, mode: str) -> dict[str, int]:
    """maintenance.yml -e maintenance=<mode> under load: every request answered, 200 or 503; hey's counts."""
    load = BackgroundLoad(host)
    load.start()
    result = run(host, workdir, maintenance_vars, "maintenance.yml", "-e", f"maintenance={mode}")
    stats = load.stop()
    assert result.returncode == 0, flat(result)[-3000:]
    codes, errors = statuses(stats.report)
    # Every request answered, before the switch or after it.
    assert errors == 0, stats.report
    assert set(codes) <= {"200", "503"}, stats.report
    return codes


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("lock")


@pytest.fixture(scope="module")
def address(host) -> str:
    """The instance's own non-loopback address: a client nginx sees apart from 127.0.0.1."""
    return host.check_output("hostname -I").split()[0]


@pytest.fixture(scope="module")
def maintenance_vars(address) -> dict:
    return {"nginx_maintenance_allow": [address], "nginx_maintenance_retry_after": 120}


def test_every_run_so_far_left_one_audit_line_in_the_file_and_in_journald(host):
    entries = audit(host)
    # test_release.py's runs: deploys, rollbacks, refused and switched-back releases.
    assert {e["action"] for e in entries} >= {"deploy", "rollback"}, entries
    for entry in entries:
        assert entry.keys() >= AUDIT_FIELDS, entry
        assert entry["playbook"] in ("deploy.yml", "rollback.yml"), entry
        assert entry["result"] in ("ok", "failed", "rolled back"), entry
        assert entry["seconds"] >= 0, entry
    rolled_back = [e for e in entries if e["result"] == "rolled back"]
    assert [e["to_version"].rsplit(".", 1)[1] for e in rolled_back] == ["post2"], entries
    assert any(e["result"] == "ok" for e in entries if e["to_version"].endswith(".post3")), entries
    assert all(len(e["config_id"]) == 12 for e in entries if e["result"] == "ok"), entries
    journal = host.check_output(f"journalctl -t {APP}-deploy -o cat --no-pager")
    assert [json.loads(line) for line in journal.splitlines()] == entries
    # Never a secret (default/inventory/group_vars/app.yml's app_environment).
    assert "molecule-secret" not in host.check_output(f"cat {AUDIT}")
    assert host.file(AUDIT).mode == 0o640
    assert host.file(STATE).mode == 0o750


def test_check_mode_takes_no_lock_and_unlock_releases_a_held_one(host, workdir):
    stale = {"run": "elsewhere", "user": "ci", "controller": "runner-9", "playbook": "deploy.yml",
             "since": "2026-01-01T00:00:00+00:00", "ci_job": "4711"}  # fmt: skip
    host.run_expect([0], f"echo '{json.dumps(stale)}' > {LOCK}")
    lines = len(audit(host))

    check = run(host, workdir, {"deploy_lock_wait": 1}, "deploy.yml", "--check", "--tags", "release")
    assert check.returncode == 0, flat(check)[-3000:]
    assert lock_holder(host)["run"] == "elsewhere"
    assert len(audit(host)) == lines

    unlock = run(host, workdir, {}, "unlock.yml")
    assert unlock.returncode == 0, flat(unlock)[-3000:]
    assert "released the deploy lock" in flat(unlock), flat(unlock)[-2000:]
    assert "ci@runner-9" in flat(unlock), flat(unlock)[-2000:]
    assert lock_holder(host) is None
    assert audit(host)[-1]["action"] == "unlock"


def test_maintenance_on_under_load_answers_503_except_health_and_the_allowlist(
    host, workdir, address, maintenance_vars
):
    codes = toggle_under_load(host, workdir, maintenance_vars, "on")
    assert codes.get("503", 0) > 0, codes

    status, headers, body = curl(host, "/")
    assert status == 503, headers
    assert headers["retry-after"] == "120", headers
    assert headers["content-type"].startswith("application/json")
    assert "maintenance" in json.loads(body)["detail"]
    assert curl(host, "/health")[0] == 200
    assert curl(host, "/", address)[0] == 200
    assert audit(host)[-1] | {"maintenance": "on"} == audit(host)[-1]
    assert audit(host)[-1]["action"] == "maintenance"

    bad = run(host, workdir, {}, "maintenance.yml", "-e", "maintenance=maybe")
    assert bad.returncode != 0
    assert "maintenance=maybe: give -e maintenance=on or -e maintenance=off" in flat(bad), flat(bad)[-2000:]


def test_a_second_deploy_stops_naming_the_first_and_the_mode_stays(host, workdir):
    # A version no test installed (test_release.py leaves .post4 current: deploying it again
    # switched nothing and was over before the second run's checks reached the lock).
    version = current(host).rsplit(".post", 1)[0] + ".post6"
    source = app_variant(workdir / "concurrent", version)
    # The first holds the lock at least through its release command's 30 s, however fast the
    # rest of a deploy gets.
    slow = {"app_source_dir": str(source), "app_release_commands": ["sleep 30"]}
    first, first_log = start(host, workdir, slow, "deploy.yml", "--tags", "release")
    assert wait_for(lambda: lock_holder(host), timeout=600), "the first deploy took no lock"

    second = run(host, workdir, {"app_source_dir": str(source), "deploy_lock_wait": 2}, "deploy.yml")
    output = flat(second)
    assert second.returncode != 0, output[-3000:]
    assert f"Deploy lock {LOCK} is held by" in output, output[-3000:]
    assert "(playbook deploy.yml" in output, output[-3000:]
    assert "waited 2 s (deploy_lock_wait). Nothing was changed." in output
    assert re.search(r"ok=\d+\s+changed=0\s+unreachable=0\s+failed=1", output), output[-1000:]

    first.wait(timeout=900)
    first_log.seek(0)
    out = first_log.read()
    assert first.returncode == 0, " ".join(out.split())[-3000:]
    assert current(host) == version
    assert f"maintenance mode of site {APP} is ON, left on" in " ".join(out.split())
    assert curl(host, "/")[0] == 503
    assert lock_holder(host) is None
    assert audit(host)[-1]["to_version"] == version
    assert audit(host)[-1]["result"] == "ok"


def test_the_rotated_audit_log_then_maintenance_off_under_load_loses_no_request(
    host, workdir, maintenance_vars
):
    # The audit log's logrotate rule (roles/deploy), forced: the lines move to .1, a new file follows.
    lines = audit(host)
    host.run_expect([0], f"logrotate --force /etc/logrotate.d/{APP}-deploy-audit")
    assert [json.loads(line) for line in host.check_output(f"cat {AUDIT}.1").splitlines()] == lines
    new = host.file(AUDIT)
    assert (new.user, new.group, new.mode, new.size) == ("root", "root", 0o640, 0)

    codes = toggle_under_load(host, workdir, maintenance_vars, "off")
    assert codes.get("200", 0) > 0, codes
    assert curl(host, "/")[0] == 200
    # The next run's line starts the new file.
    assert [entry["maintenance"] for entry in audit(host)] == ["off"]


def test_a_deploy_killed_mid_run_leaves_a_lock_the_next_run_takes_over_after_expiry(host, workdir):
    version = current(host).rsplit(".post", 1)[0] + ".post5"
    source = app_variant(workdir / "killed", version)
    killed, _ = start(host, workdir, {"app_source_dir": str(source)}, "deploy.yml", "--tags", "release")
    # Killed mid-deploy: its lock taken and its release being installed.
    assert wait_for(
        lambda: lock_holder(host) is not None and host.file(f"{RELEASES}/{version}").exists, timeout=600
    ), "no lock held with the release directory"
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    # What the killed run started on the host ends by itself (the release's install command,
    # /bin/sh named app-release, runs uv's venv and pip install, or venv, pip and compileall).
    wait_for(
        lambda: host.run("pgrep -f '[a]pp-release|[p]ip install|[u]v venv|[p]ython3 -m venv'").rc != 0,
        timeout=120,
    )
    held = lock_holder(host)
    assert held
    assert held["playbook"] == "deploy.yml"

    again = run(
        host,
        workdir,
        {"app_source_dir": str(source), "deploy_lock_expiry": 1},
        "deploy.yml",
        "--tags",
        "release",
    )
    output = flat(again)
    assert again.returncode == 0, output[-3000:]
    assert "Took over the deploy lock" in output, output[-3000:]
    assert f"since {held['since']}" in output, output[-3000:]
    assert current(host) == version
    assert lock_holder(host) is None


def test_releases_lists_current_and_previous_and_the_last_audit_lines(host, workdir):
    result = run(host, workdir, {}, "releases.yml", "-e", "deploy_history_lines=3")
    # The YAML callback prints the lines as they are, the default one escapes their quotes.
    output = flat(result).replace('\\"', '"')
    assert result.returncode == 0, output[-3000:]
    previous = host.check_output(f"readlink /opt/{APP}/previous").removeprefix("releases/")
    assert f"{current(host)} (current)" in output, output[-3000:]
    assert f"{previous} (previous)" in output, output[-3000:]
    for entry in audit(host)[-3:]:
        assert json.dumps(entry) in output, output[-3000:]


if __name__ == "__main__":
    sys.exit("run through molecule (molecule test -s release)")
