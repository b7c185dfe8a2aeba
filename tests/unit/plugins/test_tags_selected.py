"""tags_selected against Ansible's own tag rules, and the roles' tag lists against their tasks' tags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from plugin_source import ROOT, load

tags_selected = load("filter/tags_selected.py").tags_selected

NGINX = ["nginx", "tls", "packages"]


@pytest.mark.parametrize(
    ("run", "skip", "selected"),
    [
        (["all"], [], True),  # a plain run
        (["release"], [], False),  # the code-only release
        (["app", "install"], [], False),
        (["nginx"], [], True),
        (["tls"], [], True),  # the certificate tasks carry [nginx, tls]
        (["packages"], [], True),
        (["tagged"], [], True),
        (["all"], ["nginx"], False),  # every task carries the own tag
        (["tls"], ["tls"], False),
        (["all"], ["tls", "packages"], True),  # the tasks tagged [nginx] alone still run
        (["release", "tls"], [], True),
    ],
)
def test_a_role_is_selected_as_ansible_selects_its_tasks(
    run: list[str], skip: list[str], selected: bool
) -> None:
    assert tags_selected(NGINX, run, skip) is selected


def entry_point_files(tasks: Path, name: str) -> set[Path]:
    """The entry point's task file and every file it imports or includes, however deep."""
    files: set[Path] = set()
    pending = [tasks / name]
    while pending:
        path = pending.pop()
        if path in files:
            continue
        files.add(path)
        text = path.read_text()
        names = re.findall(r"import_tasks: (\S+\.yml)", text) + re.findall(
            r"^\s+file: (\S+\.yml)$", text, re.M
        )
        pending += [tasks / n for n in names]
    return files


@pytest.mark.parametrize("role", ["nginx", "logrotate", "monitoring"])
def test_each_roles_list_names_every_tag_its_tasks_carry(role: str) -> None:
    """A concern tag of the main entry point's tasks missing from the role's list would skip the
    role's read of the host under that tag."""
    text = (ROOT / "roles" / role / "vars" / "main.yml").read_text()
    listed = re.search("_" + role + r"_work_selected: >-\n  \{\{ (\[[^]]*\])\n", text)
    assert listed, f"no _{role}_work_selected in roles/{role}/vars/main.yml"
    tags = yaml.safe_load(listed.group(1))
    used: set[str] = set()
    for path in entry_point_files(ROOT / "roles" / role / "tasks", "main.yml"):
        for found in re.findall(r"tags: (\[[^]]*\])", path.read_text()):
            used |= set(yaml.safe_load(found))
    assert tags[0] == role
    assert set(tags) == used - {"always"}


def test_deploy_includes_logrotate_under_the_tags_of_the_roles_list() -> None:
    """deploy.yml decides whether to include the logrotate role with its own copy of the role's list
    (a playbook cannot read a role's vars before including it): a tag added to one only would leave
    the role out of a run that selects it."""
    text = (ROOT / "roles" / "logrotate" / "vars" / "main.yml").read_text()
    listed = re.search(r"_logrotate_work_selected: >-\n  \{\{ (\[[^]]*\])\n", text)
    assert listed
    role_list = yaml.safe_load(listed.group(1))
    playbook = (ROOT / "playbooks" / "deploy.yml").read_text()
    copies = re.findall(r"when: \"(\[[^]]*\]) \| fastapi_deploy\.server\.tags_selected", playbook)
    # Its two includes: the app play's and the nginx play's.
    assert len(copies) == 2, copies
    assert all(yaml.safe_load(copy) == role_list for copy in copies), (copies, role_list)
