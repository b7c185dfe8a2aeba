"""CPU time per request: of nginx, the app's workers, the other fronts and the load generator.

Throughput on a shared 2-core machine swings by 10-20 % from one run to the next; the CPU a
process spends per request hardly moves with it, so a regression shows as a number. Read from
each unit's cgroup (`usage_usec` of its `cpu.stat`, the path `systemctl show -p ControlGroup`
gives, under /sys/fs/cgroup or, on a hybrid cgroup v1 host, /sys/fs/cgroup/unified: the test
containers share the host's cgroup namespace) before and after the run: every process of the
unit counts, one that exits during the run (a recycled worker, an nginx worker after a reload)
included. The load generator's share is the shell's children time (bash `times`) across the
wrk (or h2load) command alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# One line per unit: "CPU <phase> <unit> <µs>", the unit's cgroup's usage_usec.
_SNAPSHOT = r"""snap() {
  for unit in "$@"; do
    cg=$(systemctl show --property=ControlGroup --value "$unit")
    usec=0
    for root in /sys/fs/cgroup /sys/fs/cgroup/unified; do
      if [ -n "$cg" ] && [ -r "$root$cg/cpu.stat" ]; then
        usec=$(awk '$1 == "usage_usec" { print $2 }' "$root$cg/cpu.stat")
        break
      fi
    done
    echo "CPU $phase $unit $usec"
  done
}
"""


def script(command: str, units: Sequence[str]) -> str:
    """`command` (wrk) wrapped in CPU snapshots of `units`; its own output is kept as it is."""
    names = " ".join(units)
    return (
        f"{_SNAPSHOT}"
        f"phase=before snap {names}\n"
        "echo TIMES before; times\n"
        f"{command}\n"
        "echo TIMES after; times\n"
        f"phase=after snap {names}\n"
    )


def _seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+)m([\d.]+)s", text)
    if not match:
        raise ValueError(f"not a bash time: {text!r}")
    return int(match.group(1)) * 60 + float(match.group(2))


def parse(text: str) -> dict[str, float]:
    """CPU seconds spent during the command: per unit, and "wrk" for the command itself."""
    usec: dict[str, dict[str, int]] = {"before": {}, "after": {}}
    for phase, unit, value in re.findall(r"^CPU (before|after) (\S+) (\d+)$", text, re.M):
        usec[phase][unit] = int(value)
    out = {unit: (usec["after"][unit] - usec["before"].get(unit, 0)) / 1e6 for unit in usec["after"]}
    children = {}
    for phase, _, child_user, child_sys in re.findall(
        r"^TIMES (before|after)\n(\S+ \S+)\n(\S+) (\S+)$", text, re.M
    ):
        children[phase] = _seconds(child_user) + _seconds(child_sys)
    if "before" in children and "after" in children:
        out["wrk"] = children["after"] - children["before"]
    return out


def per_request(seconds: dict[str, float], roles: dict[str, str], requests: int) -> dict[str, float]:
    """µs per request by role ("nginx", "workers", "wrk"); `roles` maps each unit to its role."""
    if requests <= 0:
        return {}
    out: dict[str, float] = {}
    for unit, value in seconds.items():
        role = roles.get(unit, unit)
        out[role] = out.get(role, 0.0) + value
    return {role: round(value * 1e6 / requests, 1) for role, value in out.items()}
