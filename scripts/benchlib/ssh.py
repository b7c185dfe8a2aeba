"""The SSH transport of the deploy benchmark: what users run.

A container of the sandbox image gets openssh-server and sudo from Debian's mirror,
a `deploy` user with passwordless sudo and the bench's ed25519 key; Ansible then
reaches it as `deploy` over SSH with `become` (sudo), pipelining and a persistent
connection master (ControlMaster=auto, ControlPersist=60s). Key, known_hosts,
control sockets and the generated inventories live under build/bench-ssh/.
Nothing of this is in roles/ or inventory/.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SSH_DIR = ROOT / "build" / "bench-ssh"
SSH_ARGS = "-C -o ControlMaster=auto -o ControlPersist=60s"

OPEN_SSH = """
export DEBIAN_FRONTEND=noninteractive
if ! command -v sshd >/dev/null || ! command -v sudo >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends openssh-server sudo >/dev/null
fi
id deploy >/dev/null 2>&1 || useradd --create-home --shell /bin/bash deploy
install -d -m 0700 -o deploy -g deploy /home/deploy/.ssh
printf '%s\\n' "$PUBKEY" > /home/deploy/.ssh/authorized_keys
chown deploy:deploy /home/deploy/.ssh/authorized_keys
chmod 0600 /home/deploy/.ssh/authorized_keys
echo 'deploy ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/deploy
chmod 0440 /etc/sudoers.d/deploy
visudo -cf /etc/sudoers.d/deploy >/dev/null
systemctl enable --now ssh.service >/dev/null 2>&1
"""


@dataclass(frozen=True)
class Host:
    """One inventory host: its name, the address Ansible connects to, its groups."""

    name: str
    address: str
    groups: tuple[str, ...]
    vars: tuple[tuple[str, str], ...] = ()


def key(directory: Path = SSH_DIR) -> Path:
    """The bench's private key (made once, ed25519, no passphrase)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    private = directory / "id_ed25519"
    if not private.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fastapi-bench", "-f", str(private)],
            check=True,
        )
    return private


def address(container: str) -> str:
    """The container's address on its (first) Docker network, which the controller reaches."""
    out = subprocess.run(
        [
            "docker",
            "inspect",
            "--format",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
            container,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not out:
        raise RuntimeError(f"{container} has no network address")
    return out[0]


def open_ssh(container: str, private_key: Path, timeout: float = 60) -> str:
    """Install sshd and sudo, authorize the key for `deploy`; wait until SSH answers; return the address."""
    pubkey = private_key.with_suffix(".pub").read_text().strip()
    subprocess.run(
        ["docker", "exec", "-e", f"PUBKEY={pubkey}", container, "bash", "-ceu", OPEN_SSH],
        check=True,
    )
    host = address(container)
    deadline = time.monotonic() + timeout
    while True:
        probe = subprocess.run(
            ["ssh", *client_options(private_key), f"deploy@{host}", "sudo", "-n", "true"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0:
            return host
        if time.monotonic() > deadline:
            raise RuntimeError(f"ssh deploy@{host} ({container}) failed: {probe.stderr}")
        time.sleep(0.5)


def client_options(private_key: Path) -> list[str]:
    known = private_key.parent / "known_hosts"
    return [
        "-i",
        str(private_key),
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=5",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        f"UserKnownHostsFile={known}",
    ]


def host_vars(address: str, private_key: Path) -> dict[str, object]:
    """How Ansible reaches one host over SSH: deploy with sudo, pipelining, ControlPersist."""
    directory = private_key.parent
    return {
        "ansible_connection": "ansible.builtin.ssh",
        "ansible_host": address,
        "ansible_user": "deploy",
        "ansible_become": True,
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_pipelining": True,
        "ansible_ssh_private_key_file": str(private_key),
        "ansible_ssh_args": SSH_ARGS,
        # Host keys change with every new container (and clones share one): not pinned.
        "ansible_ssh_common_args": (
            f"-o StrictHostKeyChecking=no -o UserKnownHostsFile={directory / 'known_hosts'}"
        ),
        "ansible_control_path_dir": str(directory / "cp"),
    }


def docker_vars(container: str) -> dict[str, object]:
    """How Ansible reaches one host with docker exec, as inventory/sandbox does."""
    return {
        "ansible_connection": "community.docker.docker",
        "ansible_host": container,
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_become": False,
    }


def hosts_yaml(hosts: list[Host], connection: dict[str, dict[str, object]]) -> str:
    """hosts.yml (JSON is YAML) with each host in its groups; `connection`: each host's variables."""
    groups: dict[str, dict[str, dict[str, object]]] = {}
    for host in hosts:
        for group in host.groups:
            groups.setdefault(group, {})[host.name] = {}
    first: dict[str, dict[str, object]] = {}
    for host in hosts:
        first[host.name] = {**connection[host.name], **dict(host.vars)}
    # Each host's variables once, in the first group that lists it.
    children: dict[str, object] = {}
    placed: set[str] = set()
    for group, members in groups.items():
        entries: dict[str, object] = {}
        for name in members:
            entries[name] = None if name in placed else first[name]
            placed.add(name)
        children[group] = {"hosts": entries}
    return json.dumps({"all": {"children": children}}, indent=2) + "\n"


def write_inventory(
    directory: Path, hosts: list[Host], connection: dict[str, dict[str, object]], group_vars: Path | str
) -> Path:
    """An inventory directory: hosts.yml and the group_vars copied from `group_vars` (a directory)
    or written from a YAML string."""
    if directory.exists():
        shutil.rmtree(directory)
    (directory / "group_vars").mkdir(parents=True)
    if isinstance(group_vars, Path):
        shutil.copytree(group_vars, directory / "group_vars", dirs_exist_ok=True)
    else:
        (directory / "group_vars" / "all.yml").write_text(group_vars)
    (directory / "hosts.yml").write_text(hosts_yaml(hosts, connection))
    return directory
