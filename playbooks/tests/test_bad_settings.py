"""Every option of every role's argument spec refused by deploy.yml's first play with one line naming it.

bad_settings.yml holds one wrong value per option. The first play of playbooks/deploy.yml runs once over an
inventory where each case is a host of its own (a local connection, facts from one gathering of the
controller's), so the whole table takes one run of seconds, and each host must fail with its own line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TABLE: dict[str, dict[str, Any]] = yaml.safe_load((Path(__file__).with_name("bad_settings.yml")).read_text())
VENV_BIN = Path(sys.executable).parent
# A host that passes every check: the web cases need an app host for nginx's upstream.
ANCHOR = "anchor"
# The anchor listens on TCP: an app on a unix socket is only scraped by a Prometheus on
# its own host, which the runs holding the monitoring cases do not have.
ANCHOR_VARS = {"app_web_hosts": [ANCHOR], "app_bind": "127.0.0.1:8000"}
CHUNK = int(os.environ.get("BAD_SETTINGS_CHUNK", "30"))


def spec_options() -> dict[str, str]:
    """Every option of every entry point of every role that takes settings, with its role."""
    options = {}
    for spec in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        role = spec.parents[1].name
        if role.startswith("_"):
            continue
        for entry in yaml.safe_load(spec.read_text())["argument_specs"].values():
            options.update(dict.fromkeys(entry.get("options", {}), role))
    return options


def host_name(option: str) -> str:
    return "case-" + option.replace("_", "-")


def groups_of(option: str) -> list[str]:
    role = spec_options()[option]
    return {"nginx": ["web"], "monitoring": ["monitoring"], "logs": ["logs"]}.get(role, ["app"])


def case_vars(option: str) -> dict[str, Any]:
    case = TABLE[option]
    host_vars = {} if case.get("extra_vars") else {option: case["bad"]}
    if groups_of(option) == ["app"]:
        # The app's web host is itself: the relations with other hosts hold.
        host_vars.setdefault("app_web_hosts", [host_name(option)])
    return {**host_vars, **case.get("with", {})}


def run_first_play(tmp: Path, hosts: dict[str, tuple[list[str], dict[str, Any]]], *args: str) -> dict:
    """deploy.yml's first play over hosts {name: (groups, host_vars)}; ansible's JSON output."""
    inventory: dict[str, Any] = {
        "all": {
            "vars": {
                "ansible_connection": "local",
                "ansible_become": False,
                "ansible_python_interpreter": sys.executable,
            },
            "children": {},
        }
    }
    for name, (groups, host_vars) in hosts.items():
        for group in groups:
            inventory["all"]["children"].setdefault(group, {"hosts": {}})["hosts"][name] = host_vars
    (tmp / "hosts.yml").write_text(yaml.safe_dump(inventory))
    facts = tmp / "facts"
    for name in hosts:
        shutil.copy(tmp / "gathered" / "s1_localhost", facts / f"s1_{name}")
    result = subprocess.run(
        [
            str(VENV_BIN / "ansible-playbook"),
            "-i",
            str(tmp / "hosts.yml"),
            *args,
            str(tmp / "playbooks/first.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **ansible_env(facts)},
    )
    assert result.returncode != 0, result.stdout[-3000:]
    return json.loads(result.stdout)


def ansible_env(facts: Path) -> dict[str, str]:
    return {
        # Not the project's ansible.cfg: its timing callback writes to stdout too.
        "ANSIBLE_CONFIG": str(facts.parent / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_PIPELINING": "true",
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"),
        # Facts gathered once, from the cache: "smart" skips a host whose facts it holds.
        "ANSIBLE_GATHERING": "smart",
        "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile",
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(facts),
        "ANSIBLE_NOCOLOR": "1",
    }


def failure_lines(result: dict) -> list[str]:
    if "results" in result:
        return [line for item in result["results"] if item.get("failed") for line in failure_lines(item)]
    if result.get("argument_errors"):
        return list(result["argument_errors"])
    return str(result.get("msg", "")).splitlines()


def first_failures(output: dict) -> dict[str, list[str]]:
    """Per host, the lines of its first failed task; and no host may reach a later play."""
    failures: dict[str, list[str]] = {}
    first, *later = output["plays"]
    for task in first["tasks"]:
        for name, result in task["hosts"].items():
            if result.get("failed") and name not in failures:
                failures[name] = failure_lines(result)
    for play in later:
        assert not any(task["hosts"] for task in play["tasks"]), play["play"]["name"]
    return failures


@pytest.fixture(scope="module")
def refused(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Every case run through the first play: per host, the lines it failed with."""
    tmp = tmp_path_factory.mktemp("bad-settings")
    # The first play alone, where playbook_dir/../app is the app (the roles' defaults).
    (tmp / "playbooks").mkdir()
    plays = yaml.safe_load((ROOT / "playbooks/deploy.yml").read_text())
    (tmp / "playbooks/first.yml").write_text(yaml.safe_dump(plays[:1], sort_keys=False))
    (tmp / "app").symlink_to(ROOT / "app")
    (tmp / "facts").mkdir()
    (tmp / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\n")
    gathered = subprocess.run(
        [
            str(VENV_BIN / "ansible"),
            "localhost",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-m",
            "ansible.builtin.gather_facts",
            "-a",
            "gather_subset=min,hardware,network",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={
            **os.environ,
            **ansible_env(tmp / "gathered"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal",
        },
    )
    assert (tmp / "gathered" / "s1_localhost").is_file(), gathered.stdout + gathered.stderr

    inventory_cases = [option for option in TABLE if not TABLE[option].get("extra_vars")]
    runs = []
    # A few runs of CHUNK hosts: a play's cost per host grows with the hosts in it. The
    # monitoring cases apart: a monitoring group makes every app host's metrics a check.
    for monitoring in (False, True):
        cases = [option for option in inventory_cases if (groups_of(option) == ["monitoring"]) == monitoring]
        for start in range(0, len(cases), CHUNK):
            hosts = {ANCHOR: (["app"], ANCHOR_VARS)}
            hosts.update(
                {
                    host_name(option): (groups_of(option), case_vars(option))
                    for option in cases[start : start + CHUNK]
                }
            )
            runs.append((hosts, ()))
    # Options the playbook sets itself: one run each, with the wrong value as an extra var.
    for option in TABLE:
        if TABLE[option].get("extra_vars"):
            runs.append(
                (
                    {ANCHOR: (["app"], ANCHOR_VARS), host_name(option): (["web"], {})},
                    ("-e", json.dumps({option: TABLE[option]["bad"]})),
                )
            )

    def run(index: int) -> dict[str, list[str]]:
        own = tmp / f"run{index}"
        shutil.copytree(tmp / "playbooks", own / "playbooks")
        (own / "app").symlink_to(ROOT / "app")
        (own / "facts").mkdir()
        shutil.copytree(tmp / "gathered", own / "gathered")
        shutil.copy(tmp / "ansible.cfg", own / "ansible.cfg")
        hosts, args = runs[index]
        return first_failures(run_first_play(own, hosts, *args))

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, range(len(runs))))
    failures: dict[str, list[str]] = {}
    for index, result in enumerate(results):
        hosts, args = runs[index]
        anchor = result.pop(ANCHOR, [])
        if args:
            # An extra var reaches the anchor too: it fails on that option's line alone.
            option = next(iter(json.loads(args[1])))
            assert anchor, index
            assert all(option in line or "Not deploying" in line for line in anchor), (index, anchor)
        else:
            # The anchor passed its checks: only the last task stops it.
            assert any("Not deploying" in line for line in anchor), (index, result)
        failures.update(result)
    return failures


def test_every_option_has_a_case() -> None:
    options = spec_options()
    assert sorted(set(options) - set(TABLE)) == [], "options without a case in bad_settings.yml"
    assert sorted(set(TABLE) - set(options)) == [], "cases of options no spec has"


@pytest.mark.parametrize("option", sorted(TABLE))
def test_bad_value_is_refused_with_one_line_naming_it(refused: dict[str, list[str]], option: str) -> None:
    lines = refused.get(host_name(option))
    assert lines, f"{option}={TABLE[option]['bad']!r} was not refused"
    assert len(lines) == 1, lines
    assert TABLE[option].get("says", option) in lines[0], lines[0]
    assert option in lines[0], lines[0]
