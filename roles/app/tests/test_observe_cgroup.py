"""The service-wide collector, on fake cgroup v2 and v1 trees."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from deploy_observe.cgroup import ServiceCollector

UNIT = "/system.slice/app.service"


def fake_v2(tmp_path: Path, memory_max: str) -> ServiceCollector:
    root = tmp_path / "sys"
    unit = root / UNIT.lstrip("/")
    unit.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (unit / "memory.current").write_text("52428800\n")
    (unit / "memory.max").write_text(f"{memory_max}\n")
    (unit / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    (unit / "pids.current").write_text("9\n")
    proc = tmp_path / "cgroup"
    proc.write_text(f"0::{UNIT}\n")
    return ServiceCollector(cgroup_root=root, proc_cgroup=proc)


def fake_v1(tmp_path: Path, limit: int, cpuacct_path: str) -> ServiceCollector:
    root = tmp_path / "sys"
    for controller, files in {
        "memory": {"memory.usage_in_bytes": "4096", "memory.limit_in_bytes": str(limit)},
        "pids": {"pids.current": "7"},
        "cpuacct": {"cpuacct.usage": "1500000000"},
    }.items():
        path = root / controller / (cpuacct_path if controller == "cpuacct" else UNIT).lstrip("/")
        path.mkdir(parents=True)
        for name, content in files.items():
            (path / name).write_text(content + "\n")
    proc = tmp_path / "cgroup"
    proc.write_text(
        f"9:name=systemd:{UNIT}\n8:pids:{UNIT}\n4:memory:{UNIT}\n2:cpu,cpuacct:{cpuacct_path}\n0::{UNIT}\n"
    )
    return ServiceCollector(cgroup_root=root, proc_cgroup=proc)


def values(collector: ServiceCollector) -> dict[str, float]:
    registry = CollectorRegistry()
    registry.register(collector)
    return {s.name: s.value for metric in registry.collect() for s in metric.samples}


def test_v2_reports_memory_limit_cpu_and_tasks(tmp_path: Path) -> None:
    assert values(fake_v2(tmp_path, "1073741824")) == {
        "service_memory_bytes": 52428800.0,
        "service_memory_max_bytes": 1073741824.0,
        "service_cpu_seconds_total": 2.5,
        "service_tasks": 9.0,
    }


def test_v2_no_limit_means_no_limit_sample(tmp_path: Path) -> None:
    reported = values(fake_v2(tmp_path, "max"))
    assert "service_memory_max_bytes" not in reported
    assert reported["service_memory_bytes"] == 52428800.0


def test_v1_reads_the_units_own_controllers(tmp_path: Path) -> None:
    assert values(fake_v1(tmp_path, 1073741824, UNIT)) == {
        "service_memory_bytes": 4096.0,
        "service_memory_max_bytes": 1073741824.0,
        "service_cpu_seconds_total": 1.5,
        "service_tasks": 7.0,
    }


def test_v1_skips_controllers_not_at_the_unit_and_no_limit(tmp_path: Path) -> None:
    reported = values(fake_v1(tmp_path, 9223372036854771712, "/"))
    assert reported == {"service_memory_bytes": 4096.0, "service_tasks": 7.0}


@pytest.mark.parametrize("proc_cgroup", ["", "garbage\n", "0::/not/there\n"])
def test_reports_nothing_outside_a_cgroup(tmp_path: Path, proc_cgroup: str) -> None:
    proc = tmp_path / "cgroup"
    proc.write_text(proc_cgroup)
    collector = ServiceCollector(cgroup_root=tmp_path, proc_cgroup=proc)
    assert values(collector) == {}
    registry = CollectorRegistry()
    registry.register(collector)
    assert generate_latest(registry) == b""
