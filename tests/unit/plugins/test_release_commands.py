"""The release commands' record in the audit line, read from the output of the role's own command script."""

from __future__ import annotations

import subprocess

import yaml

from plugin_source import ROOT, load

SCRIPT = yaml.safe_load((ROOT / "roles/app/vars/main.yml").read_text())["_app_commands_script"]
release_commands = load("filter/release_commands.py")


def run(*commands: str) -> dict:
    """The script as the role runs it (sh -c SCRIPT sh COMMAND...), as the command module registers it."""
    proc = subprocess.run(["sh", "-c", SCRIPT, "sh", *commands], capture_output=True, text=True, check=False)
    return {"rc": proc.returncode, "stdout": proc.stdout.rstrip("\n"), "stderr": proc.stderr}


def test_every_command_that_ran_with_its_exit_code_and_last_lines() -> None:
    commands = ["echo migrating; echo 'database at 0002'", "seq 1 30", "echo broken >&2; exit 3"]
    commands.append("echo never")
    runs = release_commands.release_commands_run(run(*commands), commands)
    assert runs == [
        {"command": commands[0], "rc": 0, "tail": ["migrating", "database at 0002"]},
        {"command": commands[1], "rc": 0, "tail": [str(n) for n in range(21, 31)]},
        # The script's own "failed with exit code" line is not the command's output.
        {"command": commands[2], "rc": 3, "tail": ["broken"]},
    ]


def test_long_lines_are_cut() -> None:
    commands = ["printf '%0300d\\n' 7"]
    (record,) = release_commands.release_commands_run(run(*commands), commands, width=50)
    assert record["tail"] == ["0" * 50]


def test_a_run_that_never_started_names_systemd_run() -> None:
    result = {"rc": 1, "stdout": "", "stderr": "Failed to start transient service unit: Access denied"}
    assert release_commands.release_commands_run(result, ["alembic upgrade head"]) == [
        {"command": "systemd-run", "rc": 1, "tail": ["Failed to start transient service unit: Access denied"]}
    ]
