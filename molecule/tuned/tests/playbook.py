"""deploy.yml run against the scenario's instance with extra host variables."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

PLAYBOOK = Path(__file__).resolve().parents[3] / "playbooks" / "deploy.yml"


def run_deploy(host, tmp_path: Path, host_vars: dict) -> subprocess.CompletedProcess[str]:
    """Molecule's inventory plus host_vars for the instance (above its group_vars, as an operator's
    host_vars would be); never raises on a failed play."""
    name = host.ansible.get_variables()["inventory_hostname"]
    extra = tmp_path / "host_vars.yml"
    extra.write_text(yaml.safe_dump({"all": {"hosts": {name: host_vars}}}))
    return subprocess.run(
        [
            "ansible-playbook",
            "--inventory",
            os.environ["MOLECULE_INVENTORY_FILE"],
            "--inventory",
            str(extra),
            str(PLAYBOOK),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )
