"""The service-wide collector, on a fake cgroup v2 tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from fastapi_demo.cgroup import ServiceCollector


def fake_cgroup(tmp_path: Path, memory_max: str) -> ServiceCollector:
    unit = tmp_path / "sys" / "system.slice" / "app.service"
    unit.mkdir(parents=True)
    (unit / "memory.current").write_text("52428800\n")
    (unit / "memory.max").write_text(f"{memory_max}\n")
    (unit / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    (unit / "pids.current").write_text("9\n")
    proc = tmp_path / "cgroup"
    proc.write_text("0::/system.slice/app.service\n")
    return ServiceCollector(cgroup_root=tmp_path / "sys", proc_cgroup=proc)


def values(collector: ServiceCollector) -> dict[str, float]:
    registry = CollectorRegistry()
    registry.register(collector)
    return {s.name: s.value for metric in registry.collect() for s in metric.samples}


def test_reports_memory_limit_cpu_and_tasks(tmp_path: Path) -> None:
    assert values(fake_cgroup(tmp_path, "1073741824")) == {
        "service_memory_bytes": 52428800.0,
        "service_memory_max_bytes": 1073741824.0,
        "service_cpu_seconds_total": 2.5,
        "service_tasks": 9.0,
    }


def test_no_limit_means_no_limit_sample(tmp_path: Path) -> None:
    reported = values(fake_cgroup(tmp_path, "max"))
    assert "service_memory_max_bytes" not in reported
    assert reported["service_memory_bytes"] == 52428800.0


@pytest.mark.parametrize("proc_cgroup", ["", "12:memory:/legacy\n", "0::/not/there\n"])
def test_reports_nothing_outside_cgroup_v2(tmp_path: Path, proc_cgroup: str) -> None:
    proc = tmp_path / "cgroup"
    proc.write_text(proc_cgroup)
    collector = ServiceCollector(cgroup_root=tmp_path, proc_cgroup=proc)
    assert values(collector) == {}
    registry = CollectorRegistry()
    registry.register(collector)
    assert generate_latest(registry) == b""
