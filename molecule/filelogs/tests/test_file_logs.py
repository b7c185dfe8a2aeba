"""File logs: JSON lines in /var/log/<app>, rotated by logrotate without losing or duplicating a line."""

from __future__ import annotations

from helpers import APP, process_tree, wait_for
from logs import assert_access_entry, assert_base_fields, json_lines, lines_with, marker, send

LOG_DIR = f"/var/log/{APP}"
ACCESS = f"{LOG_DIR}/access.log"
ERROR = f"{LOG_DIR}/error.log"
RULE = f"/etc/logrotate.d/{APP}"
SECRET = "molecule-secret-7c1f04d9"  # molecule.yml: app_environment.APP_SECRET_TOKEN


def paths_in(text: str, agent: str) -> list[str]:
    return [entry["path"] for entry in lines_with(text, agent)]


def plain_rotations(host, name: str) -> set[str]:
    """Rotated, not yet compressed files of a log (delaycompress keeps the newest plain)."""
    out = host.check_output(f"find {LOG_DIR} -name '{name}-*' ! -name '*.gz' -printf '%f\\n'")
    return set(out.split())


def all_reopened(host) -> bool:
    """Master and workers have the current files open, none a renamed or deleted one."""
    master, workers = process_tree(host, f"{APP}.service")
    for pid in (master, *workers):
        # Only the processes' own user may list their fds (root lacks CAP_SYS_PTRACE here).
        targets = host.check_output(
            f"runuser -u {APP} -- find /proc/{pid}/fd -lname '{LOG_DIR}/*' -printf '%l\\n'"
        ).splitlines()
        if sorted(set(targets)) != [ACCESS, ERROR]:
            return False
    return True


def wait_for_paths(host, agent: str, paths: list[str]) -> None:
    def logged() -> bool:
        return paths_in(host.file(ACCESS).content_string, agent) == paths

    assert wait_for(logged, timeout=10), host.file(ACCESS).content_string[-2000:]


def test_log_files_belong_to_the_app_user_and_hold_json(host):
    for path in (ACCESS, ERROR):
        f = host.file(path)
        assert (f.user, f.group, f.mode) == (APP, APP, 0o640), path
    d = host.file(LOG_DIR)
    assert (d.user, d.group, d.mode) == (APP, APP, 0o750)
    assert LOG_DIR in host.service(f"{APP}.service").systemd_properties["ReadWritePaths"]

    mark = marker()
    agent = f"filelogs-test/{mark}"
    paths = [f"/items/{mark}{i}" for i in range(3)]
    assert send(host, paths, agent) == [200] * 3
    wait_for_paths(host, agent, paths)
    for entry in lines_with(host.file(ACCESS).content_string, agent):
        assert_access_entry(entry, entry["path"], 200, agent, "127.0.0.1")
    # Every line of both files is JSON; app_log_level: debug lets debug lines through.
    for entry in json_lines(host.file(ACCESS).content_string):
        assert_base_fields(entry)
    # Rotations (also by earlier runs of these tests) move the boot lines to error.log-*[.gz].
    errors = json_lines(host.check_output(f"zcat --force {LOG_DIR}/error.log*"))
    for entry in errors:
        assert_base_fields(entry)
    assert {"INFO", "DEBUG"} <= {entry["level"] for entry in errors}
    # The files replace journald for these lines.
    assert agent not in host.check_output(f"journalctl --no-pager --output=cat --unit {APP}")
    assert host.run("grep -rF %s /var/log/", SECRET).rc == 1


def test_forced_rotation_splits_requests_exactly_and_keeps_the_workers(host):
    mark = marker()
    agent = f"rotation-test/{mark}"
    first = [f"/items/{mark}{i:02d}" for i in range(6)]
    second = [f"/items/{mark}{i:02d}" for i in range(6, 11)]
    pids = process_tree(host, f"{APP}.service")
    assert len(pids[1]) == 2, pids

    assert send(host, first, agent) == [200] * len(first)
    wait_for_paths(host, agent, first)
    before = plain_rotations(host, "access.log")
    host.run_expect([0], f"logrotate --force {RULE}")
    [rotation] = plain_rotations(host, "access.log") - before
    # postrotate sent USR1 through systemd: every process reopens its files.
    assert wait_for(lambda: all_reopened(host), timeout=10), "the app kept writing to the rotated files"
    assert process_tree(host, f"{APP}.service") == pids, "USR1 restarted the master or a worker"

    assert send(host, second, agent) == [200] * len(second)
    wait_for_paths(host, agent, second)
    # Nothing lost, nothing duplicated: the rotated file holds exactly the first batch.
    assert paths_in(host.file(f"{LOG_DIR}/{rotation}").content_string, agent) == first
    rotated_file = host.file(f"{LOG_DIR}/{rotation}")
    assert (rotated_file.user, rotated_file.mode) == (APP, 0o640)
    new_file = host.file(ACCESS)
    assert (new_file.user, new_file.group, new_file.mode) == (APP, APP, 0o640)

    # dateformat has second resolution: the next rotation needs a new name.
    stamp = int(rotation.rsplit("-", 1)[1])
    assert wait_for(lambda: int(host.check_output("date +%s")) > stamp, timeout=3)
    host.run_expect([0], f"logrotate --force {RULE}")
    assert not host.file(f"{LOG_DIR}/{rotation}").exists
    older = host.check_output(f"zcat {LOG_DIR}/{rotation}.gz")
    assert paths_in(older, agent) == first
    [newest] = plain_rotations(host, "access.log") - before
    assert paths_in(host.file(f"{LOG_DIR}/{newest}").content_string, agent) == second
    assert wait_for(lambda: all_reopened(host), timeout=10)
    assert process_tree(host, f"{APP}.service") == pids, "USR1 restarted the master or a worker"
