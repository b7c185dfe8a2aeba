"""CPU time per request: of nginx, the app's workers and the load generator, around one wrk run.

Throughput on a shared 2-core machine swings by 10-20 % from one run to the next; the CPU a
process spends per request hardly moves with it, so a regression shows as a number. Read from
/proc/<pid>/stat (utime + stime + cutime + cstime) of each unit's main process and its direct
children, before and after the run: a child that exits during the run (a recycled worker, an
nginx worker after a reload) is counted through its parent's cutime/cstime. The load
generator's share is the shell's children time (bash `times`) across the wrk command alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# One line per unit: "CPU <phase> <unit> <clock ticks>", for the unit's main process and children.
_SNAPSHOT = r"""snap() {
  for unit in "$@"; do
    main=$(systemctl show --property=MainPID --value "$unit")
    pids=/proc/$main/stat
    for child in $(ps --ppid "$main" -o pid= 2>/dev/null); do pids="$pids /proc/$child/stat"; done
    ticks=$(cat $pids 2>/dev/null | awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { print t+0 }')
    echo "CPU $phase $unit $ticks"
  done
}
"""


def script(command: str, units: Sequence[str]) -> str:
    """`command` (wrk) wrapped in CPU snapshots of `units`; its own output is kept as it is."""
    names = " ".join(units)
    return (
        f"{_SNAPSHOT}echo HZ $(getconf CLK_TCK)\n"
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
    hz_match = re.search(r"^HZ (\d+)$", text, re.M)
    hz = int(hz_match.group(1)) if hz_match else 100
    ticks: dict[str, dict[str, int]] = {"before": {}, "after": {}}
    for phase, unit, value in re.findall(r"^CPU (before|after) (\S+) (\d+)$", text, re.M):
        ticks[phase][unit] = int(value)
    out = {unit: (ticks["after"][unit] - ticks["before"].get(unit, 0)) / hz for unit in ticks["after"]}
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
