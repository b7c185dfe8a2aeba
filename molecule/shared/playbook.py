"""Playbooks run against the scenario's instance with extra host variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
# The controller tools of pytest's own virtualenv, found without PATH.
VENV_BIN = Path(sys.executable).parent


def ansible_playbook(playbook: str, *args: str) -> subprocess.CompletedProcess[str]:
    """ansible-playbook playbooks/<playbook> against Molecule's inventory directory, as Molecule runs it;
    never raises on a failed play."""
    return subprocess.run(
        [
            str(VENV_BIN / "ansible-playbook"),
            "--inventory",
            str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent),
            *args,
            str(PLAYBOOKS / playbook),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={
            **os.environ,
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
        },
    )


def run_playbook(
    host, tmp_path: Path, host_vars: dict, playbook: str = "deploy.yml", *extra: str
) -> subprocess.CompletedProcess[str]:
    """Molecule's inventory plus host_vars for the instance (above its group_vars, as an operator's
    host_vars would be); never raises on a failed play."""
    name = host.ansible.get_variables()["inventory_hostname"]
    inventory = tmp_path / "host_vars.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {name: host_vars}}}))
    return ansible_playbook(playbook, "--inventory", str(inventory), *extra)


def run_deploy(host, tmp_path: Path, host_vars: dict, *extra: str) -> subprocess.CompletedProcess[str]:
    """playbooks/deploy.yml with host_vars (see run_playbook)."""
    return run_playbook(host, tmp_path, host_vars, "deploy.yml", *extra)
