# Used by the app role (tasks/release_name.yml): the wheelhouse build on the
# controller, run by the task's worker as a process of its own. As a command
# task the same build also paid a module run on the controller (AnsiballZ
# built and started for a local connection), about 0.3 s of every release
# (docs/design.md).
"""Build the app role's wheelhouse for one host target with roles/app/files/build_wheelhouse.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase

FILES = Path(__file__).resolve().parents[2] / "roles" / "app" / "files"
# Added to every wheelhouse: the package beside the app, the server's pins
# where the app has none, and the installer the hosts run.
ROLE_INPUTS = [
    "--extra-dir",
    str(FILES / "deploy_observe"),
    "--add-pins",
    str(FILES / "server" / "constraints.txt"),
    "--installer",
    str(FILES / "installer" / "constraints.txt"),
]
OPTIONS: dict[str, Any] = {
    "app_dir": {"type": "path", "required": True},
    "constraints": {"type": "str", "default": ""},
    "python": {"type": "str", "required": True},
    "arch": {"type": "str", "required": True},
    "out": {"type": "path", "required": True},
    "index_url": {"type": "str", "default": ""},
    "groups": {"type": "list", "elements": "str", "default": []},
    "extras": {"type": "list", "elements": "str", "default": []},
    "exclude": {"type": "list", "elements": "str", "default": []},
}


def command(args: dict[str, Any]) -> list[str]:
    """The build script's command line for the task's options."""
    argv = [sys.executable, str(FILES / "build_wheelhouse.py"), "--app-dir", args["app_dir"]]
    for option in ("constraints", "python", "arch", "out", "index_url"):
        argv += [f"--{option.replace('_', '-')}", args[option]]
    for option, flag in (("groups", "--group"), ("extras", "--extra"), ("exclude", "--exclude")):
        argv += [f"{flag}={value}" for value in args[option]]
    return argv + ROLE_INPUTS


def outcome(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The task's result: changed when it built; on failure the script's last line (its reason) as msg."""
    result: dict[str, Any] = {
        "rc": proc.returncode,
        "stdout": proc.stdout,
        "stderr": proc.stderr,
        "changed": proc.returncode == 0 and " built" in proc.stdout,
    }
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines()
        result["failed"] = True
        result["msg"] = lines[-1] if lines else f"the wheelhouse build exited with {proc.returncode}"
    return result


class ActionModule(ActionBase):
    # The build runs on the controller whatever the task's host: no connection to it.
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=OPTIONS)
        # Only the controller's build directory changes: the same in check mode.
        proc = subprocess.run(command(args), capture_output=True, text=True, check=False)
        result.update(outcome(proc))
        return result
