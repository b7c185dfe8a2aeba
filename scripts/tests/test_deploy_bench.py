"""The deploy side of the benchmark: floor multiples and targets, fleet growth, the SSH inventory,
the floor play's likeness to deploy.yml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from benchlib import ssh
from benchlib.deploying import FLOOR, TAGGED, WATCHED, DeployRun, changed
from benchlib.fleet import FleetRun, curves, growth
from benchlib.report import deploy_rows, deploy_table, fleet_record, markdown

ROOT = Path(__file__).resolve().parents[2]


def rows_by_key(deploys: list[DeployRun]) -> dict[tuple[str, str], dict]:
    return {(r["name"], r["transport"]): r for r in deploy_rows(deploys)}


def test_each_timing_is_a_multiple_of_its_own_transports_floor() -> None:
    rows = rows_by_key(
        [
            DeployRun("floor", 4.0, 0, (4.0, 5.0, 3.5), "ssh"),
            DeployRun("floor", 5.0, 0, (5.0,), "docker"),
            DeployRun("idempotent re-run", 11.0, 0, (11.0,), "ssh"),
            DeployRun("idempotent re-run", 20.0, 0, (20.0,), "docker"),
            DeployRun("code-only release", 26.0, 9, (26.0,), "ssh"),
        ]
    )
    assert rows[("idempotent re-run", "ssh")]["floor_multiple"] == 2.75
    assert rows[("idempotent re-run", "docker")]["floor_multiple"] == 4.0
    assert rows[("floor", "ssh")]["floor_multiple"] is None


def test_a_row_with_floor_runs_of_its_own_is_divided_by_those() -> None:
    # The machine slowed between the floor rows (3.0 s) and the releases: their own floor runs say 3.5.
    rows = rows_by_key(
        [
            DeployRun("floor", 3.0, 0, (3.0, 2.9, 3.1), "ssh"),
            DeployRun(TAGGED, 13.3, 7, (13.3, 13.0, 14.0), "ssh", floor=3.5),
            DeployRun("idempotent re-run", 9.0, 0, (9.0,), "ssh"),
        ]
    )
    tagged = rows[(TAGGED, "ssh")]
    assert (tagged["floor_multiple"], tagged["floor_seconds"], tagged["met"]) == (3.8, 3.5, True)
    assert rows[("idempotent re-run", "ssh")]["floor_multiple"] == 3.0
    assert rows[("floor", "ssh")]["floor_seconds"] is None
    table = "\n".join(
        deploy_table(
            deploy_rows(
                [DeployRun("floor", 3.0, 0, (), "ssh"), DeployRun(TAGGED, 13.3, 7, (13.3,), "ssh", floor=3.5)]
            )
        )
    )
    assert f"| {TAGGED} | ssh | 13.3 | 3.5 | 3.80 | 7 |" in table


def test_targets_floor_multiple_on_both_transports_seconds_over_ssh_only() -> None:
    rows = rows_by_key(
        [
            DeployRun("floor", 4.0, 0, (), "ssh"),
            DeployRun("floor", 10.0, 0, (), "docker"),
            DeployRun("idempotent re-run", 11.0, 0, (), "ssh"),  # 2.75x, 11 s: met
            DeployRun("idempotent re-run", 29.0, 0, (), "docker"),  # 2.9x; 29 s has no limit on docker
            DeployRun("code-only release", 16.0, 9, (), "ssh"),  # 4x, 16 s: met
            DeployRun("code-only release", 41.0, 9, (), "docker"),  # 4.1x: not met
            DeployRun("first provisioning", 181.0, 90, (), "ssh"),
            DeployRun(TAGGED, 17.0, 6, (), "ssh"),  # 4.25x: not met
        ]
    )
    # The documented --tags release run has the code-only release's goals.
    assert (rows[(TAGGED, "ssh")]["targets"], rows[(TAGGED, "ssh")]["met"]) == (
        ["≤ 4x floor", "≤ 25 s"],
        False,
    )
    ssh_rerun = rows[("idempotent re-run", "ssh")]
    assert (ssh_rerun["targets"], ssh_rerun["met"]) == (["≤ 3x floor", "≤ 12 s"], True)
    assert rows[("idempotent re-run", "docker")]["targets"] == ["≤ 3x floor"]
    assert rows[("idempotent re-run", "docker")]["met"] is True
    assert rows[("code-only release", "ssh")]["met"] is True
    assert rows[("code-only release", "docker")]["met"] is False
    assert rows[("first provisioning", "ssh")]["met"] is False
    # Over the seconds although under the multiple: not met.
    slow = rows_by_key(
        [DeployRun("floor", 5.0, 0, (), "ssh"), DeployRun("idempotent re-run", 13.0, 0, (), "ssh")]
    )
    assert slow[("idempotent re-run", "ssh")]["met"] is False
    # Without a floor in the run, only the seconds count.
    alone = rows_by_key([DeployRun("idempotent re-run", 11.0, 0, (), "ssh")])
    assert alone[("idempotent re-run", "ssh")]["targets"] == ["≤ 12 s"]


def test_growth_is_the_least_squares_slope() -> None:
    assert growth([(1, 30.0), (2, 40.0), (4, 60.0)]) == pytest.approx(10.0)
    assert growth([(1, 30.0), (2, 50.0), (4, 58.0)]) == pytest.approx(60 / 7)
    assert growth([(1, 30.0)]) is None


def test_the_one_host_release_serves_both_serial_curves() -> None:
    runs = [
        FleetRun("provisioning", 1, "100%", 200.0, 80),
        FleetRun("code-only release", 1, "1", 30.0, 9),
        FleetRun("grown fleet deploy", 2, "100%", 50.0, 20),
        FleetRun("code-only release", 2, "1", 50.0, 12),
        FleetRun("code-only release", 2, "100%", 35.0, 12),
    ]
    assert curves(runs) == {"1": [(1, 30.0), (2, 50.0)], "100%": [(1, 30.0), (2, 35.0)]}
    record = fleet_record(runs)
    assert record["growth_s_per_host"] == {"1": 20.0, "100%": 5.0}
    text = markdown(
        {
            "date": "d",
            "machine": "m",
            "settings": {"connections": 1, "seconds": 1},
            "serving": [],
            "ratios": {},
            "deploy": [],
            "fleet": record,
        }
    )
    assert "| 100% | 30.0 (1) / 35.0 (2) | 5.0 |" in text


def test_the_watch_is_reported_apart_from_the_code_only_release() -> None:
    deploys = [
        DeployRun("floor", 4.0, 0, (), "ssh"),
        DeployRun("code-only release", 16.0, 9, (), "ssh"),
        DeployRun(WATCHED, 49.5, 9, (), "ssh"),
    ]
    rows = rows_by_key(deploys)
    # The goal is the unwatched release's; the watched one has none.
    assert rows[("code-only release", "ssh")]["met"] is True
    assert rows[(WATCHED, "ssh")]["targets"] == []
    base = {"date": "d", "machine": "m", "settings": {"connections": 1, "seconds": 1}, "serving": []}
    text = markdown({**base, "ratios": {}, "deploy": deploy_rows(deploys), "fleet": {}})
    assert "The post-switch watch (ssh): +33.5 s over the unwatched code-only release" in text


def test_changed_is_the_most_of_any_host_in_the_recap() -> None:
    out = (
        "PLAY RECAP ***\n"
        "web   : ok=40   changed=2    unreachable=0\n"
        "app1  : ok=80   changed=11   unreachable=0\n"
    )
    assert changed(out) == 11
    assert changed("no recap") == -1


def test_generated_inventory_has_the_sandbox_groups_and_ssh_settings(tmp_path: Path) -> None:
    private = tmp_path / "id_ed25519"
    hosts = [ssh.Host("web", "10.0.0.2", ("web", "monitoring")), ssh.Host("app1", "10.0.0.3", ("app",))]
    connection = {h.name: ssh.host_vars(h.address, private) for h in hosts}
    group_vars = tmp_path / "gv"
    group_vars.mkdir()
    (group_vars / "all.yml").write_text("app_name: x\n")
    inventory = ssh.write_inventory(tmp_path / "inv", hosts, connection, group_vars)
    data = yaml.safe_load((inventory / "hosts.yml").read_text())
    children = data["all"]["children"]
    assert set(children) == {"web", "monitoring", "app"}
    web = children["web"]["hosts"]["web"]
    assert children["monitoring"]["hosts"] == {"web": None}  # its variables once
    assert web["ansible_host"] == "10.0.0.2"
    assert (web["ansible_user"], web["ansible_become"], web["ansible_pipelining"]) == ("deploy", True, True)
    assert "ControlPersist=60s" in web["ansible_ssh_args"]
    assert f"UserKnownHostsFile={tmp_path / 'known_hosts'}" in web["ansible_ssh_common_args"]
    assert (inventory / "group_vars" / "all.yml").read_text() == "app_name: x\n"
    # A YAML string for the group variables.
    again = ssh.write_inventory(tmp_path / "inv", hosts, connection, "app_name: y\n")
    assert (again / "group_vars" / "all.yml").read_text() == "app_name: y\n"
    assert json.loads((again / "hosts.yml").read_text())["all"]["children"]["app"]["hosts"]["app1"]


def test_the_floor_gathers_the_facts_of_deploy_yml_first_play() -> None:
    deploy = yaml.safe_load((ROOT / "playbooks" / "deploy.yml").read_text())
    floor = yaml.safe_load(FLOOR.read_text())
    first = [p for p in deploy if p.get("gather_facts")]
    assert len(first) == 1
    assert [p for p in floor if p.get("gather_facts")] == [floor[0]]
    for key in ("hosts", "become", "gather_subset"):
        assert floor[0][key] == first[0][key]
    # One cheap module per task, nothing that changes the host.
    for play in floor:
        for task in play["tasks"]:
            assert task["ansible.builtin.command"] == "/bin/true"
            assert task["changed_when"] is False
