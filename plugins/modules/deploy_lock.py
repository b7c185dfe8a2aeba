#!/usr/bin/python
# Used by the deploy role: the deploy lock and the audit log of a host, in
# one module so that releasing a lock and writing the run's audit line are
# one step (a second release writes nothing).
"""Take or release a host's deploy lock; on release append the run's audit line."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: deploy_lock
short_description: Take or release a host's deploy lock, and append the run's audit line
description:
  - C(state=present) creates the lock file atomically with its holder (a JSON object), waiting up to C(wait)
    seconds while another run holds it; a lock older than C(expiry) seconds is taken over with a warning.
    One held by the same run (same C(holder.run)) is kept.
  - C(state=absent) removes the lock when this run holds it (any holder with C(force)); only then, the
    C(audit) line is appended to C(audit_path) and sent to journald under C(identifier).
options:
  path: {description: The lock file., type: path, required: true}
  state: {description: Take or release., type: str, choices: [present, absent], default: present}
  holder:
    description: "Who takes it: C(run) (unique per run), user, controller, playbook, since, ci_job."
    type: dict
  wait: {description: Seconds to wait for a lock another run holds., type: int, default: 0}
  expiry: {description: A lock older than this many seconds is taken over., type: int, default: 3600}
  force: {description: Release whoever holds it (playbooks/unlock.yml)., type: bool, default: false}
  audit: {description: The audit line (a JSON object) written when this run's lock is released., type: dict}
  audit_path: {description: The audit log (JSON lines)., type: path}
  identifier: {description: The journald syslog identifier of the audit lines., type: str}
  directory_mode:
    description:
      - With C(state=present), the lock's directory is made (root:root, this octal mode) or set so first;
        C(directory_changed) says whether it was. Saves the run a module of its own.
    type: str
"""


def read_lock(path: str) -> dict[str, Any] | None:
    """The holder in the lock file; {} for one being written or unreadable; None when there is none."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        mtime = os.stat(path).st_mtime
    except FileNotFoundError:
        return None
    try:
        holder = json.loads(text)
    except ValueError:
        holder = {}
    if not isinstance(holder, dict):
        holder = {}
    holder.setdefault("since_epoch", mtime)
    return holder


def describe(holder: dict[str, Any]) -> str:
    ci = f", CI job {holder['ci_job']}" if holder.get("ci_job") else ""
    return (
        f"{holder.get('user', '?')}@{holder.get('controller', '?')} "
        f"(playbook {holder.get('playbook', '?')}{ci}) since {holder.get('since', '?')}"
    )


def write_new(path: str, holder: dict[str, Any]) -> bool:
    """Create the lock file; False when it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(holder, sort_keys=True) + "\n")
    return True


def take_over(path: str, holder: dict[str, Any]) -> bool:
    """Replace an expired lock; True when this run holds it afterwards (two runs may race here)."""
    tmp = f"{path}.{holder['run']}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(holder, sort_keys=True) + "\n")
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)
    time.sleep(0.2)
    now = read_lock(path)
    return bool(now) and now.get("run") == holder["run"]


def ensure_directory(path: str, mode: int) -> bool:
    """`path` a directory owned by root:root with `mode`; True when it had to be made or set."""
    changed = False
    try:
        st = os.stat(path)
    except FileNotFoundError:
        os.makedirs(path, mode=mode)
        st = os.stat(path)
        changed = True
    if (st.st_uid, st.st_gid) != (0, 0):
        os.chown(path, 0, 0)
        changed = True
    if st.st_mode & 0o7777 != mode:
        os.chmod(path, mode)
        changed = True
    return changed


def acquire(module: AnsibleModule, path: str, directory_changed: bool = False) -> None:
    holder = dict(module.params["holder"] or {})
    if not holder.get("run"):
        module.fail_json(msg="deploy_lock: holder.run is required to take the lock")
    holder["since_epoch"] = time.time()
    holder.setdefault("since", datetime.now(UTC).isoformat(timespec="seconds"))
    deadline = time.monotonic() + module.params["wait"]
    waited_for = None
    while True:
        current = read_lock(path)
        if current is not None and current.get("run") == holder["run"]:
            module.exit_json(
                changed=False,
                holder=current,
                msg="this run holds the lock",
                directory_changed=directory_changed,
            )
        if current is None:
            if write_new(path, holder):
                msg = "took the lock" + (f" after waiting for {describe(waited_for)}" if waited_for else "")
                module.exit_json(
                    changed=True,
                    holder=holder,
                    msg=msg,
                    waited=waited_for is not None,
                    directory_changed=directory_changed,
                )
            continue
        age = time.time() - float(current.get("since_epoch", 0))
        if age > module.params["expiry"]:
            if take_over(path, holder):
                module.warn(
                    f"Took over the deploy lock {path} of {describe(current)}: older than "
                    f"deploy_lock_expiry ({module.params['expiry']} s), its run is taken for dead."
                )
                module.exit_json(
                    changed=True,
                    holder=holder,
                    taken_over=current,
                    directory_changed=directory_changed,
                    msg=f"took over the expired lock of {describe(current)}",
                )
            continue
        if time.monotonic() >= deadline:
            module.fail_json(
                msg=(
                    f"Deploy lock {path} is held by {describe(current)}; waited "
                    f"{module.params['wait']} s (deploy_lock_wait). Nothing was changed. "
                    "A run that died leaves it until deploy_lock_expiry; playbooks/unlock.yml releases it."
                ),
                holder=current,
                held=True,
            )
        waited_for = current
        time.sleep(1)


def audit_line(module: AnsibleModule, line: str) -> None:
    audit_path = module.params["audit_path"]
    fd = os.open(audit_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    if module.params["identifier"]:
        # journald, under an identifier of its own (journalctl -t <identifier>).
        subprocess.run(
            ["systemd-cat", "-t", module.params["identifier"], "-p", "info"],
            input=line + "\n",
            text=True,
            check=False,
        )


def release(module: AnsibleModule, path: str) -> None:
    holder = module.params["holder"] or {}
    current = read_lock(path)
    ours = current is not None and (module.params["force"] or current.get("run") == holder.get("run"))
    if not ours:
        module.exit_json(changed=False, holder=current, msg="this run holds no lock here")
    audit = module.params["audit"]
    line = None
    if audit is not None and module.params["audit_path"]:
        entry = dict(audit)
        since = float(current.get("since_epoch", time.time()))
        entry.setdefault("seconds", round(time.time() - since, 1))
        line = json.dumps(entry, sort_keys=False)
        audit_line(module, line)
    os.unlink(path)
    module.exit_json(changed=True, holder=current, audit=line, msg="released " + describe(current))


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "holder": {"type": "dict"},
            "wait": {"type": "int", "default": 0},
            "expiry": {"type": "int", "default": 3600},
            "force": {"type": "bool", "default": False},
            "audit": {"type": "dict"},
            "audit_path": {"type": "path"},
            "identifier": {"type": "str"},
            "directory_mode": {"type": "str"},
        },
        supports_check_mode=True,
    )
    path = module.params["path"]
    if module.check_mode:
        # --check takes no lock and writes no audit line; it reports the holder.
        module.exit_json(changed=False, holder=read_lock(path))
    if module.params["state"] == "present":
        mode = module.params["directory_mode"]
        acquire(module, path, ensure_directory(os.path.dirname(path), int(mode, 8)) if mode else False)
    release(module, path)


if __name__ == "__main__":
    main()
