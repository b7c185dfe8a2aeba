"""host_state (the _host_state role's module) against real files, accounts and dpkg output."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
from pathlib import Path

import pytest

from plugin_source import load, run_module

MODULE = "modules/host_state.py"
host_state = load(MODULE)
ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


@pytest.fixture
def conf(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "app.conf"
    path.write_text("workers = 3\n")
    path.chmod(0o640)
    checksum = _sha1("workers = 3\n")
    return {"dest": str(path), "checksum": checksum, "owner": ME, "group": MY_GROUP, "mode": "0640"}


def test_file_as_wanted_does_not_differ(conf: dict[str, str]) -> None:
    assert host_state.compare_path(conf) is None


def test_file_with_other_content_mode_or_owner_differs(conf: dict[str, str]) -> None:
    assert host_state.compare_path({**conf, "checksum": _sha1("workers = 5\n")}) == "differs"
    assert host_state.compare_path({**conf, "mode": "0644"}) == "differs"
    assert host_state.compare_path({**conf, "owner": "nobody-else"}) == "differs"
    Path(conf["dest"]).write_text("workers = 4\n")
    assert host_state.compare_path(conf) == "differs"


def test_missing_paths_and_wrong_types(conf: dict[str, str], tmp_path: Path) -> None:
    assert host_state.compare_path({**conf, "dest": str(tmp_path / "nope")}) == "missing"
    as_dir = {"dest": conf["dest"], "state": "directory", "owner": ME, "group": MY_GROUP, "mode": "0640"}
    assert host_state.compare_path(as_dir) == "differs"
    tmp_path.chmod(0o750)
    here = {"dest": str(tmp_path), "state": "directory", "owner": ME, "group": MY_GROUP, "mode": "0750"}
    assert host_state.compare_path(here) is None
    assert host_state.compare_path({**here, "state": "file", "checksum": "x"}) == "differs"


def test_links_compare_their_target(tmp_path: Path) -> None:
    link = tmp_path / "current"
    link.symlink_to("releases/1.0.0")
    assert host_state.compare_path({"dest": str(link), "state": "link", "src": "releases/1.0.0"}) is None
    other = {"dest": str(link), "state": "link", "src": "releases/1.1.0"}
    assert host_state.compare_path(other) == "differs"
    regular = tmp_path / "plain"
    regular.write_text("")
    assert (
        host_state.compare_path({"dest": str(regular), "state": "link", "src": "releases/1.0.0"}) == "differs"
    )


def test_absent_differs_only_when_there(tmp_path: Path) -> None:
    old = tmp_path / "venv"
    assert host_state.compare_path({"dest": str(old), "state": "absent"}) is None
    old.mkdir()
    assert host_state.compare_path({"dest": str(old), "state": "absent"}) == "differs"


SYSTEMCTL_SHOW = """\
Id=app.socket
LoadState=loaded
ActiveState=active
UnitFileState=enabled
NeedDaemonReload=no

Id=app.service
LoadState=loaded
ActiveState=active
UnitFileState=enabled
NeedDaemonReload=yes

Id=nginx.service
LoadState=loaded
ActiveState=inactive
UnitFileState=enabled
NeedDaemonReload=no

Id=gone.service
LoadState=not-found
ActiveState=inactive
UnitFileState=
NeedDaemonReload=no
"""


def test_units_differ_unless_enabled_active_and_loaded_as_on_disk() -> None:
    shown = host_state.parse_systemctl_show(SYSTEMCTL_SHOW)
    assert set(shown) == {"app.socket", "app.service", "nginx.service", "gone.service"}
    names = ["app.socket", "app.service", "nginx.service", "gone.service", "unlisted.service"]
    assert host_state.units_differ(names, shown) == names[1:]


def test_accounts_differ() -> None:
    root = pwd.getpwnam("root")
    as_is = {"name": "root", "group": "root", "home": root.pw_dir, "shell": root.pw_shell}
    as_is["comment"] = root.pw_gecos
    assert host_state.accounts_differ([as_is], ["root"]) == []
    other_shell = {**as_is, "shell": "/usr/sbin/nologin-not-this"}
    missing = {**as_is, "name": "no-such-user-here"}
    assert host_state.accounts_differ([other_shell, missing], ["no-such-group-here"]) == [
        "group:no-such-group-here",
        "user:root",
        "user:no-such-user-here",
    ]


def test_parse_dpkg_keeps_installed_packages_only() -> None:
    text = (
        "nginx\t1.22.1-9\tamd64\tii \ncurl\t7.88.1\tamd64\trc \nlibc6\t2.36-9\tamd64\tii \n"
        "logrotate\t3.21.0-1\tamd64\thi \nman-db\t2.11.2-2\tamd64\tiW \nvim\t2:9.0\tamd64\tun \n"
    )
    packages = host_state.parse_dpkg(text)
    assert set(packages) == {"nginx", "libc6", "logrotate", "man-db"}
    assert packages["nginx"] == [{"name": "nginx", "version": "1.22.1-9", "arch": "amd64", "source": "apt"}]


def test_read_path_kinds(tmp_path: Path) -> None:
    (tmp_path / "releases" / "1.0.0").mkdir(parents=True)
    (tmp_path / "releases" / "1.0.0" / "MANIFEST.sha256").write_text("abc\n")
    (tmp_path / "current").symlink_to("releases/1.0.0")
    (tmp_path / "big").write_bytes(b"x" * (host_state.READ_LIMIT + 1))
    current = host_state.read_path(str(tmp_path / "current"))
    assert (current["type"], current["target"]) == ("link", "releases/1.0.0")
    assert [e["name"] for e in current["entries"]] == ["MANIFEST.sha256"]
    (tmp_path / "releases" / "1.0.0" / "MANIFEST.sha256").chmod(0o640)
    manifest = host_state.read_path(str(tmp_path / "releases" / "1.0.0" / "MANIFEST.sha256"))
    me = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    # A file's owner, group and mode, as the file tasks would set them.
    assert manifest == {"type": "file", "content": "abc\n", "owner": me[0], "group": me[1], "mode": "0640"}
    big = host_state.read_path(str(tmp_path / "big"))
    assert (big["type"], big["too_big"], "content" in big) == ("file", True, False)
    assert host_state.read_path(str(tmp_path / "previous")) == {"type": "missing"}
    listing = host_state.read_path(str(tmp_path / "releases"))
    assert [(e["name"], e["isdir"]) for e in listing["entries"]] == [("1.0.0", True)]
    # Through links: what they lead to is read too; a dangling one has its target only.
    (tmp_path / "manifest-link").symlink_to(tmp_path / "releases" / "1.0.0" / "MANIFEST.sha256")
    through = host_state.read_path(str(tmp_path / "manifest-link"))
    assert (through["type"], through["content"], through["mode"]) == ("link", "abc\n", "0640")
    (tmp_path / "releases-link").symlink_to("releases")
    assert host_state.read_path(str(tmp_path / "releases-link"))["entries"] == listing["entries"]
    (tmp_path / "dangling").symlink_to("nowhere")
    assert host_state.read_path(str(tmp_path / "dangling")) == {"type": "link", "target": "nowhere"}
    # Under a file: not there (NotADirectoryError), for reading and comparing alike.
    under_file = str(tmp_path / "big" / "MANIFEST.sha256")
    assert host_state.read_path(under_file) == {"type": "missing"}
    assert host_state.compare_path({"dest": under_file, "checksum": "x"}) == "missing"


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="needs dpkg's database (Debian controller)")
def test_module_run_reports_and_sets_package_facts(conf: dict[str, str], tmp_path: Path) -> None:
    """The module as Ansible runs it (arguments in a file), with dpkg's real database."""
    args = {
        "paths": [conf, {**conf, "dest": str(tmp_path / "missing.conf")}],
        "read": [conf["dest"]],
        "package_facts": True,
    }
    returncode, result = run_module(MODULE, args, tmp_path)
    assert returncode == 0, result
    assert result["changed"] is False
    assert result["differ"] == {str(tmp_path / "missing.conf"): "missing"}
    assert result["read"][conf["dest"]]["content"] == "workers = 3\n"
    assert "dpkg" in result["ansible_facts"]["packages"]
