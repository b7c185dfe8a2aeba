"""The collection fastapi_deploy.server as a user installs and uses it, from a repository of their own.

Built from the checkout, installed with `ansible-galaxy collection install -r requirements.yml` into the
user's directory (examples/infra, copied), documented by ansible-doc, then: the user's deploy.yml (which
imports the collection's deploy playbook) deploys the demo app to this scenario's container, and the
user's site.yml (the roles in a play of their own) finds nothing to change. Nothing of the checkout is
on the collections path then; each command runs with the user's ansible.cfg.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
VENV_BIN = Path(sys.executable).parent
NAME = "fastapi_deploy.server"


def run(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / argv[0]), *argv[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def user_env(infra: Path) -> dict[str, str]:
    """The user's environment: their ansible.cfg, no ANSIBLE_* of Molecule's (nor its collections path)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    return {
        **env,
        "ANSIBLE_CONFIG": str(infra / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{VENV_BIN}:{env['PATH']}",
    }


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = run("ansible-galaxy", "collection", "build", str(ROOT), "--output-path", str(out), cwd=out)
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("fastapi_deploy-server-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory, tarball: Path, host) -> Path:
    """examples/infra copied, its requirements.yml naming the tarball, its inventory this container."""
    infra = tmp_path_factory.mktemp("user") / "infra"
    shutil.copytree(ROOT / "examples/infra", infra)
    requirements = yaml.safe_load((infra / "requirements.yml").read_text())
    requirements["collections"] = [{"name": str(tarball), "type": "file"}]
    (infra / "requirements.yml").write_text(yaml.safe_dump(requirements))
    name = host.ansible.get_variables()["inventory_hostname"]
    # Host vars: above the example's group_vars/all.yml (its own app's), as an operator's would be.
    this = {
        "ansible_connection": "community.docker.docker",
        "ansible_become": False,
        # The demo app, instead of the example's own.
        "app_source_dir": str(ROOT / "app"),
        "app_module": "fastapi_demo.main:app",
        "nginx_server_names": ["localhost"],
        "app_workers": 2,
    }
    hosts = {"all": {"children": {"app": {"hosts": {name: this}}, "web": {"hosts": {name: this}}}}}
    (infra / "inventory/hosts.yml").write_text(yaml.safe_dump(hosts))
    return infra


def test_the_tarball_holds_the_product_only(tarball: Path) -> None:
    with tarfile.open(tarball) as tar:
        top = {member.name.split("/")[0] for member in tar.getmembers()}
        names = set(tar.getnames())
    assert top == {
        "CHANGELOG.md",
        "FILES.json",
        "MANIFEST.json",
        "README.md",
        "dashboards",
        "docs",
        "meta",
        "playbooks",
        "plugins",
        "roles",
    }, top
    assert {
        "plugins/modules/host_state.py",
        "plugins/modules/deploy_lock.py",
        "plugins/filter/release_commands.py",
        "roles/app/tasks/main.yml",
        "playbooks/deploy.yml",
    } <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith("playbooks/tests")]


def test_installed_from_requirements_and_from_git_and_documented(infra: Path, tmp_path: Path) -> None:
    env = user_env(infra)
    installed = run(
        "ansible-galaxy", "collection", "install", "-r", "requirements.yml", "--no-deps", cwd=infra, env=env
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    where = infra / "collections/ansible_collections/fastapi_deploy/server"
    assert (where / "MANIFEST.json").is_file()
    listed = run("ansible-galaxy", "collection", "list", NAME, cwd=infra, env=env)
    assert str(infra / "collections") in listed.stdout, listed.stdout
    # From the checkout's git repository, as requirements.yml's `type: git` entry installs it.
    from_git = run(
        "ansible-galaxy",
        "collection",
        "install",
        f"git+file://{ROOT},HEAD",
        "--no-deps",
        "-p",
        str(tmp_path / "git"),
        cwd=tmp_path,
        env=env,
    )
    assert from_git.returncode == 0, from_git.stdout + from_git.stderr
    assert (tmp_path / "git/ansible_collections/fastapi_deploy/server/roles/app/tasks/main.yml").is_file()

    role = run("ansible-doc", "-t", "role", f"{NAME}.app", cwd=infra, env=env)
    assert role.returncode == 0, role.stderr
    assert "ENTRY POINT: *main*" in role.stdout or "ENTRY POINT: main" in role.stdout, role.stdout
    assert "app_source_dir" in role.stdout
    module = run("ansible-doc", f"{NAME}.host_state", cwd=infra, env=env)
    assert module.returncode == 0, module.stderr
    described = " ".join(module.stdout.split())
    assert "Compares paths with what a role would write" in described, described


def test_the_users_playbook_deploys_and_their_own_play_changes_nothing(infra: Path, host) -> None:
    env = user_env(infra)
    deployed = run("ansible-playbook", "deploy.yml", cwd=infra, env=env)
    assert deployed.returncode == 0, (deployed.stdout + deployed.stderr)[-4000:]
    health = json.loads(
        host.check_output("curl -sf --max-time 5 -H 'Host: localhost' http://127.0.0.1/health")
    )
    assert health["status"] == "ok"
    # Named by the user's group_vars (app_name: shop-api), the demo's code by their host's vars.
    assert host.file("/opt/shop-api/current/RUNTIME").exists

    again = run("ansible-playbook", "site.yml", cwd=infra, env=env)
    output = again.stdout + again.stderr
    assert again.returncode == 0, output[-4000:]
    recap = [line for line in again.stdout.splitlines() if " changed=" in line]
    assert recap, output[-4000:]
    assert all(" changed=0 " in line for line in recap), output[-4000:]


def test_ansible_lint_production_passes_on_this_core() -> None:
    env = {
        **os.environ,
        "ANSIBLE_DUPLICATE_YAML_DICT_KEY": "ignore",
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
    }
    for key in [k for k in env if k.startswith("ANSIBLE_") and k != "ANSIBLE_DUPLICATE_YAML_DICT_KEY"]:
        del env[key]
    linted = run("ansible-lint", "--profile", "production", cwd=ROOT, env=env)
    assert linted.returncode == 0, (linted.stdout + linted.stderr)[-4000:]
