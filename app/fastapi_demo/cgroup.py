"""Memory, CPU and tasks of the whole service, read from its cgroup (v2).

Under systemd every process of a unit (Gunicorn's master and all its workers) sits in the unit's
cgroup, whose ``memory.max`` is the unit's ``MemoryMax``. Reading the cgroup gives service-wide
numbers whichever worker answers, which per-process metrics cannot in multiprocess mode.
Outside a cgroup v2 hierarchy the collector reports nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector


def own_cgroup(proc_cgroup: Path) -> str | None:
    """The cgroup v2 path of this process ("0::/system.slice/app.service" -> "/system.slice/app.service")."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):
            return line[3:]
    return None


def read_value(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


class ServiceCollector(Collector):
    """service_memory_bytes, service_memory_max_bytes, service_cpu_seconds_total, service_tasks."""

    def __init__(
        self,
        cgroup_root: Path = Path("/sys/fs/cgroup"),
        proc_cgroup: Path = Path("/proc/self/cgroup"),
    ) -> None:
        self.cgroup_root = cgroup_root
        self.proc_cgroup = proc_cgroup

    def _dir(self) -> Path | None:
        relative = own_cgroup(self.proc_cgroup)
        if relative is None:
            return None
        path = self.cgroup_root / relative.lstrip("/")
        return path if (path / "memory.current").is_file() else None

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        path = self._dir()
        if path is None:
            return
        current = read_value(path / "memory.current")
        if current is not None and current.isdigit():
            yield GaugeMetricFamily(
                "service_memory_bytes", "Memory charged to the service's cgroup.", value=float(current)
            )
        limit = read_value(path / "memory.max")
        if limit is not None and limit.isdigit():  # "max" means no limit: no sample
            yield GaugeMetricFamily(
                "service_memory_max_bytes",
                "The service's memory limit (systemd MemoryMax).",
                value=float(limit),
            )
        cpu = read_value(path / "cpu.stat")
        if cpu is not None:
            usage = dict(line.split(" ", 1) for line in cpu.splitlines() if " " in line).get("usage_usec")
            if usage is not None and usage.isdigit():
                yield CounterMetricFamily(
                    "service_cpu_seconds",
                    "CPU time used by all processes of the service.",
                    value=int(usage) / 1e6,
                )
        tasks = read_value(path / "pids.current")
        if tasks is not None and tasks.isdigit():
            yield GaugeMetricFamily(
                "service_tasks", "Tasks (threads) in the service's cgroup.", value=float(tasks)
            )
