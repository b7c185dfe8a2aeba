"""Memory, CPU and tasks of the whole service, read from its cgroup.

Under systemd every process of a unit (Gunicorn's master and all its workers) sits in the unit's
cgroup, whose memory limit is the unit's ``MemoryMax``. Reading the cgroup gives service-wide
numbers whichever worker answers, which per-process metrics cannot in multiprocess mode.
Both hierarchies are read: cgroup v2 (Debian 12 and 13 by default) and the v1 controllers of a
hybrid host. A v1 controller counts only when it is mounted at the unit's own cgroup.
Outside any cgroup the collector reports nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

# cgroup v1 reports "no limit" as a huge page-aligned number.
V1_NO_LIMIT = 2**62


def own_cgroups(proc_cgroup: Path) -> dict[str, str]:
    """{controller: path} of this process; "" is the unified (v2) hierarchy, "name=systemd" systemd's."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return {}
    paths = {}
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(","):
                paths[controller] = parts[2]
    return paths


def read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class ServiceCollector(Collector):
    """service_memory_bytes, service_memory_max_bytes, service_cpu_seconds_total, service_tasks."""

    def __init__(
        self,
        cgroup_root: Path = Path("/sys/fs/cgroup"),
        proc_cgroup: Path = Path("/proc/self/cgroup"),
    ) -> None:
        self.cgroup_root = cgroup_root
        self.proc_cgroup = proc_cgroup

    def read(self) -> dict[str, float]:
        """The service's numbers that this host's cgroups provide."""
        paths = own_cgroups(self.proc_cgroup)
        if (self.cgroup_root / "cgroup.controllers").is_file():
            return self._read_v2(paths)
        return self._read_v1(paths)

    def _read_v2(self, paths: dict[str, str]) -> dict[str, float]:
        if "" not in paths:
            return {}
        unit = self.cgroup_root / paths[""].lstrip("/")
        found: dict[str, float | None] = {
            "memory": read_int(unit / "memory.current"),
            "memory_max": read_int(unit / "memory.max"),  # "max" (no limit) reads as None
            "tasks": read_int(unit / "pids.current"),
        }
        try:
            stat = dict(line.split(" ", 1) for line in (unit / "cpu.stat").read_text().splitlines())
            found["cpu"] = int(stat["usage_usec"]) / 1e6
        except (OSError, KeyError, ValueError):
            pass
        return {key: float(value) for key, value in found.items() if value is not None}

    def _read_v1(self, paths: dict[str, str]) -> dict[str, float]:
        unit = paths.get("name=systemd", paths.get(""))
        if unit is None:
            return {}

        def controller(name: str) -> Path | None:
            if paths.get(name) != unit:  # not accounted at the unit: it would be someone else's numbers
                return None
            return self.cgroup_root / name / unit.lstrip("/")

        found: dict[str, float] = {}
        memory = controller("memory")
        if memory is not None:
            usage = read_int(memory / "memory.usage_in_bytes")
            limit = read_int(memory / "memory.limit_in_bytes")
            if usage is not None:
                found["memory"] = float(usage)
            if limit is not None and limit < V1_NO_LIMIT:
                found["memory_max"] = float(limit)
        cpuacct = controller("cpuacct")
        if cpuacct is not None and (usage := read_int(cpuacct / "cpuacct.usage")) is not None:
            found["cpu"] = usage / 1e9
        pids = controller("pids")
        if pids is not None and (tasks := read_int(pids / "pids.current")) is not None:
            found["tasks"] = float(tasks)
        return found

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        found = self.read()
        if "memory" in found:
            yield GaugeMetricFamily(
                "service_memory_bytes", "Memory charged to the service's cgroup.", value=found["memory"]
            )
        if "memory_max" in found:
            yield GaugeMetricFamily(
                "service_memory_max_bytes",
                "The service's memory limit (systemd MemoryMax); absent when unlimited.",
                value=found["memory_max"],
            )
        if "cpu" in found:
            yield CounterMetricFamily(
                "service_cpu_seconds", "CPU time used by all processes of the service.", value=found["cpu"]
            )
        if "tasks" in found:
            yield GaugeMetricFamily(
                "service_tasks", "Tasks (threads) in the service's cgroup.", value=found["tasks"]
            )
