#!/usr/bin/python
# Used by the _host_state role: everything a role needs to know of the host
# before it writes, read in one module run instead of a stat, file, group,
# user, systemd_service or package_facts run per item on every idempotent
# deploy.
"""Read a role's paths, units, accounts and packages as they are on the host."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat
from typing import Any

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: host_state
short_description: Read a role's paths, units, accounts and packages in one module run
description:
  - Compares paths with what a role would write (type, SHA-1 of the content, owner, group, mode, link
    target), reports the systemd units that are not enabled, active and loaded as on disk, the users and
    groups that are missing or set otherwise, the installed packages (as C(ansible_facts.packages), the
    shape package_facts gives), and reads links, small files and directory listings. Never changes anything.
options:
  paths:
    description:
      - Each with C(dest) and C(state) (C(file), C(directory), C(link) or C(absent)); a file with C(checksum)
        (SHA-1 of the content it should have), a link with C(src); files and directories with C(owner),
        C(group) and C(mode) (four octal digits).
    type: list
    elements: dict
    default: []
  units:
    description: systemd units that should be enabled and running.
    type: list
    elements: str
    default: []
  users:
    description: Users, each with C(name), C(group), C(home), C(shell) and C(comment).
    type: list
    elements: dict
    default: []
  groups:
    description: Group names.
    type: list
    elements: str
    default: []
  read:
    description: Paths to read as they are (link target, content up to 64 KiB, or directory listing).
    type: list
    elements: path
    default: []
  package_facts:
    description: Set C(ansible_facts.packages) from dpkg's database, as package_facts does.
    type: bool
    default: false
"""

RETURN = r"""
differ:
  description: The C(dest) of each path that differs, with C(missing) when it is not there, else C(differs).
  type: dict
units_differ:
  description: The units not enabled, not active, not loaded or with a changed unit file.
  type: list
accounts_differ:
  description: The users and groups missing or set otherwise (C(user:NAME), C(group:NAME)).
  type: list
read:
  description:
    - Per path, C(type) (missing, link, file, directory, other) and C(target), C(content) or C(entries);
      a file's C(owner), C(group) and C(mode) (four octal digits) too.
  type: dict
"""

READ_LIMIT = 64 * 1024
UNIT_PROPERTIES = ("Id", "LoadState", "UnitFileState", "ActiveState", "NeedDaemonReload")


def _name(getter: Any, number: int) -> str:
    try:
        return getter(number)[0]
    except KeyError:
        return str(number)


def _sha1(path: str) -> str:
    # SHA-1: what the controller computes for the content it would write.
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def compare_path(want: dict[str, Any]) -> str | None:
    """None when the path is as wanted, else 'missing' or 'differs'."""
    dest = want["dest"]
    state = want.get("state") or "file"
    try:
        st = os.lstat(dest)
    except (FileNotFoundError, NotADirectoryError):
        return None if state == "absent" else "missing"
    except OSError:
        return "differs"
    if state == "absent":
        return "differs"
    if state == "link":
        return None if stat.S_ISLNK(st.st_mode) and os.readlink(dest) == want.get("src") else "differs"
    if state == "directory":
        if not stat.S_ISDIR(st.st_mode):
            return "differs"
    elif not stat.S_ISREG(st.st_mode):
        return "differs"
    else:
        try:
            if _sha1(dest) != want.get("checksum"):
                return "differs"
        except OSError:
            return "differs"
    have = [_name(pwd.getpwuid, st.st_uid), _name(grp.getgrgid, st.st_gid), f"{stat.S_IMODE(st.st_mode):04o}"]
    return None if have == [want.get("owner"), want.get("group"), want.get("mode")] else "differs"


def parse_systemctl_show(text: str) -> dict[str, dict[str, str]]:
    """`systemctl show -p ... UNIT...` output: blank-line separated blocks, keyed by Id."""
    units: dict[str, dict[str, str]] = {}
    for block in text.strip().split("\n\n"):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if props.get("Id"):
            units[props["Id"]] = props
    return units


def units_differ(names: list[str], shown: dict[str, dict[str, str]]) -> list[str]:
    """The units that an 'enabled, started' task would change (or that need a daemon-reload)."""
    wanted = {
        "LoadState": "loaded",
        "UnitFileState": "enabled",
        "ActiveState": "active",
        "NeedDaemonReload": "no",
    }
    return [name for name in names if any(shown.get(name, {}).get(k) != v for k, v in wanted.items())]


def accounts_differ(users: list[dict[str, Any]], groups: list[str]) -> list[str]:
    differ = []
    for name in groups:
        try:
            grp.getgrnam(name)
        except KeyError:
            differ.append(f"group:{name}")
    for user in users:
        try:
            entry = pwd.getpwnam(user["name"])
            group = _name(grp.getgrgid, entry.pw_gid)
        except KeyError:
            differ.append(f"user:{user['name']}")
            continue
        have = [group, entry.pw_dir, entry.pw_shell, entry.pw_gecos]
        if have != [user.get("group"), user.get("home"), user.get("shell"), user.get("comment")]:
            differ.append(f"user:{user['name']}")
    return differ


def parse_dpkg(text: str) -> dict[str, list[dict[str, str]]]:
    """dpkg-query -W lines of package, version, architecture, status (tab-separated): installed only."""
    packages: dict[str, list[dict[str, str]]] = {}
    for line in text.splitlines():
        fields = line.split("\t")
        # Installed: status i, or W / t (configured, triggers pending), whatever the selection (hold).
        if len(fields) == 4 and fields[3][1:2] in ("i", "W", "t"):
            name, version, arch = fields[:3]
            packages.setdefault(name, []).append(
                {"name": name, "version": version, "arch": arch, "source": "apt"}
            )
    return packages


def read_path(path: str) -> dict[str, Any]:
    """What is at path: `type` (missing, link, file, directory, other, error); a link's `target`, and
    what a path leads to: a file's `content` (text, up to READ_LIMIT, else `too_big`), a directory's
    `entries` (name, mtime, isdir)."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {"type": "missing"}
    except OSError as error:
        return {"type": "error", "msg": str(error)}
    is_link = stat.S_ISLNK(st.st_mode)
    found: dict[str, Any] = {"type": "link", "target": os.readlink(path)} if is_link else {}
    try:
        if is_link:
            st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            found.setdefault("type", "file")
            # What a file task would set, so a caller can compare it as the paths are compared.
            found["owner"] = _name(pwd.getpwuid, st.st_uid)
            found["group"] = _name(grp.getgrgid, st.st_gid)
            found["mode"] = f"{stat.S_IMODE(st.st_mode):04o}"
            with open(path, "rb") as handle:
                content = handle.read(READ_LIMIT + 1)
            if len(content) > READ_LIMIT:
                found["too_big"] = True
            else:
                found["content"] = content.decode("utf-8", errors="replace")
        elif stat.S_ISDIR(st.st_mode):
            found.setdefault("type", "directory")
            found["entries"] = _entries(path)
        else:
            found.setdefault("type", "other")
    except FileNotFoundError:  # a dangling link
        return found
    except OSError as error:
        return {"type": "error", "msg": str(error)}
    return found


def _entries(path: str) -> list[dict[str, Any]]:
    entries = []
    with os.scandir(path) as scan:
        for entry in scan:
            try:
                entry_st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # removed meanwhile
                continue
            isdir = stat.S_ISDIR(entry_st.st_mode)
            entries.append({"name": entry.name, "mtime": entry_st.st_mtime, "isdir": isdir})
    return sorted(entries, key=lambda e: e["name"])


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "dict", "default": []},
            "units": {"type": "list", "elements": "str", "default": []},
            "users": {"type": "list", "elements": "dict", "default": []},
            "groups": {"type": "list", "elements": "str", "default": []},
            "read": {"type": "list", "elements": "path", "default": []},
            "package_facts": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    result: dict[str, Any] = {"changed": False}

    differ = {}
    for want in params["paths"]:
        if "dest" not in want:
            module.fail_json(msg=f"host_state: a path without dest: {want!r}")
        status = compare_path(want)
        if status:
            differ[want["dest"]] = status
    result["differ"] = differ

    result["units_differ"] = []
    if params["units"]:
        rc, out, err = module.run_command(
            ["systemctl", "show", "--property=" + ",".join(UNIT_PROPERTIES), "--", *params["units"]]
        )
        if rc != 0:
            module.fail_json(msg=f"systemctl show failed: {err.strip()}", rc=rc)
        result["units_differ"] = units_differ(params["units"], parse_systemctl_show(out))

    result["accounts_differ"] = accounts_differ(params["users"], params["groups"])
    result["read"] = {path: read_path(path) for path in params["read"]}

    if params["package_facts"]:
        rc, out, err = module.run_command(
            ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n"]
        )
        if rc != 0:
            module.fail_json(msg=f"dpkg-query failed: {err.strip()}", rc=rc)
        result["ansible_facts"] = {"packages": parse_dpkg(out)}

    module.exit_json(**result)


if __name__ == "__main__":
    main()
